"""Suggestions for the operator: triggers → drafts → stored, de-duplicated, rate-limited.

Three ways in, one path out:
- `suggest_for_new_messages` — the hook after ingest (files and the live bot alike): looks at
  messages newer than the stored watermark (minus a look-back, so a late file import of recent
  history is still seen), plus members who just crossed into "declining", and hands back what
  to show each operator now.
- `suggest_for_member` — `siyu suggest MEMBER`: the member's latest triggering message and
  lifecycle moments, on demand (the operator asked, so no rate limit applies).
- `draft_invites` — `siyu invite ACTIVITY --segment CODE`.

Rules that hold on every path: opted-out members never get anything; one pending suggestion
per member and scenario (a newer trigger updates it, an already-seen trigger changes nothing);
suggestions are addressed to an operator, never to a chat, and an operator id that is a group
is refused. The feedback loop (`set_status`, `feedback_summary`) closes the circle: which
playbook variants operators actually send, and which ones members answer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from handlers.live_personas import LivePersonas
from handlers.personas import PersonaView, build_personas, to_record
from handlers.settings import ConfigError, Settings, section
from persona.persona import SILENT_TYPES, MessageRecord, Persona, iso
from persona.playbook import (
    DEFAULT_INTERESTS,
    Playbook,
    PlaybookError,
    default_playbook,
    default_playbook_text,
    parse_playbook,
)
from persona.suggest import (
    PRIORITY,
    Draft,
    Drafting,
    Trigger,
    draft,
    draft_invite,
    is_segment_code,
    is_signup,
    last_words,
    member_triggers,
    message_trigger,
    next_action_label,
    reactivate_trigger,
    segment_codes,
    welcome_trigger,
)
from storage.repo import MemberRow, Store, StoredMessage
from storage.suggestions import (
    ACCEPTED,
    STATUSES,
    OpenConflict,
    SuggestionRow,
    SuggestionStore,
)

_STATE_WATERMARK = "watermark"
_STATE_LAST_RUN = "last_run"
# How often, in the live hook's clock, it syncs the shared state and looks for members
# turning declining (see SuggestHook.messages).
STATE_EVERY = timedelta(seconds=60)


class Polished(Protocol):
    """A polished script: the text to store, and whether it differs from the template."""

    @property
    def text(self) -> str: ...

    @property
    def polished(self) -> bool: ...


class Polisher(Protocol):
    """Rewrites a chosen script in a more natural tone (bot/llm.py talks to an LLM endpoint).

    The bot injects one when `[llm]` configures an endpoint; None means templates as they are.
    A use case never reaches for the network itself, so a test or a CLI run without `[llm]`
    cannot send anything anywhere.
    """

    def polish(self, text: str, *, name: str | None = None,
               secrets: Iterable[str] = ()) -> Polished: ...


class SuggestError(Exception):
    """A one-line reason for the operator (unknown handle, status or segment)."""


# ---- configuration -----------------------------------------------------------------------
@dataclass(frozen=True)
class SuggestConfig:
    """The [suggest] table of siyu.toml."""

    # An operator's own playbook file; its scenarios replace the bundled ones.
    playbooks: str | None = None
    # At most this many suggestions are handed to one operator per hour; the rest wait.
    per_operator_per_hour: int = 30
    # A member sent an invite this recently is not invited again.
    invite_recent_days: int = 7
    # How long after sending a reply, a signup or an order still counts as the outcome.
    outcome_days: int = 7
    # The hook ignores messages older than this: last month's question needs no script now.
    max_age_hours: float = 72.0
    # The hook re-reads this much before its watermark, for late-arriving imports.
    lookback_hours: float = 24.0
    # Who gets suggestions: one operator, or one per chat.
    operator: str = "operator"
    operators: Mapping[str, str] = field(default_factory=dict)
    # Staff accounts (member id or name) that talk in groups but are not customers.
    staff: tuple[str, ...] = ()


_INT_KEYS = ("per_operator_per_hour", "invite_recent_days", "outcome_days")
_NUM_KEYS = ("max_age_hours", "lookback_hours")


def suggest_config(settings: Settings) -> SuggestConfig:
    raw = section(settings, "suggest")
    where = f"{settings.source}: [suggest]"
    known = set(SuggestConfig.__dataclass_fields__)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where} 未知配置项 {key}，可用: {', '.join(sorted(known))}")
        if key in _INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{where} {key} 必须是非负整数")
        elif key in _NUM_KEYS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"{where} {key} 必须是正数")
            value = float(value)
        elif key in ("playbooks", "operator"):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where} {key} 必须是非空字符串")
        elif key == "operators":
            if not isinstance(value, dict) or not all(
                    isinstance(v, str) and v for v in value.values()):
                raise ConfigError(f"{where} operators 必须是 聊天ID = \"运营ID\" 的表")
        elif key == "staff":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where} staff 必须是字符串列表")
            value = tuple(value)
        values[key] = value
    cfg = SuggestConfig(**values)
    for op in (cfg.operator, *cfg.operators.values()):
        if op.endswith("@chatroom"):
            raise ConfigError(f"{where} 运营 {op} 是群聊：建议只发给运营本人，不能发到群里")
    return cfg


def load_playbook(settings: Settings, interests: Iterable[str] | None = None) -> Playbook:
    """The bundled playbook, overlaid with the operator's file from `[suggest] playbooks`."""
    if interests is None:
        from handlers.lexicon import load_lexicon

        interests = [i.code for i in load_lexicon(settings).interests]
    codes = list(interests)
    cfg = suggest_config(settings)
    try:
        # The bundled file with the bundled taxonomy is parsed once per process.
        playbook = (default_playbook() if set(codes) == set(DEFAULT_INTERESTS)
                    else parse_playbook(default_playbook_text(), interests=codes))
        if cfg.playbooks:
            path = Path(cfg.playbooks)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{path}: 无法读取话术文件 ({exc.strerror})") from exc
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{path}: 不是 UTF-8 文本 ({exc.reason})") from exc
            playbook = parse_playbook(text, str(path), codes, base=playbook)
    except PlaybookError as exc:
        raise ConfigError(str(exc)) from exc
    return playbook


def _drafting(settings: Settings, labels: Mapping[str, str],
              playbook: Playbook | None) -> Drafting:
    from handlers.lexicon import load_lexicon

    lexicon = load_lexicon(settings)
    if playbook is None:
        playbook = load_playbook(settings, [i.code for i in lexicon.interests])
    return Drafting(playbook, labels, products=frozenset(lexicon.interest_index),
                    concerns=frozenset(lexicon.motivations))


# ---- views -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SuggestionView:
    """A stored suggestion with the member it is about."""

    row: SuggestionRow
    member_id: str
    name: str

    def to_json(self, tz: Any = UTC) -> dict[str, Any]:
        """The contract's suggestion item, plus extras the operator tools use."""
        r = self.row
        return {
            "id": str(r.id), "scenario": r.scenario, "message_id": r.message_id,
            "text": r.text, "alternatives": list(r.alternatives), "why": list(r.why),
            "status": r.status,
            "member_id": self.member_id, "variant": r.variant,
            "next_action": r.next_action, "next_action_label": next_action_label(r.next_action),
            "reasons": list(r.reasons), "trigger_at": iso(r.trigger_ts, tz),
            "polished": r.polished,
        }

    def invite_json(self, tz: Any = UTC) -> dict[str, Any]:
        """The contract's invite item (member_id, text, why) plus extras."""
        r = self.row
        return {
            "member_id": self.member_id, "text": r.text, "why": list(r.why),
            "id": str(r.id), "name": self.name, "status": r.status, "variant": r.variant,
            "alternatives": list(r.alternatives), "next_action": r.next_action,
        }


@dataclass(frozen=True, slots=True)
class Skip:
    member_id: str
    name: str
    reason: str  # opted_out | staff | recently_invited | already_invited | dismissed
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"member_id": self.member_id, "reason": self.reason, "name": self.name,
                "detail": self.detail}


@dataclass(slots=True)
class SuggestRun:
    """What one pass of the trigger hook did; `notify` is what to hand operators now."""

    as_of: datetime
    messages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notify: list[SuggestionView] = field(default_factory=list)
    # What still waits for an operator's hourly budget; None when not counted (live path).
    queued: int | None = 0
    skipped: list[Skip] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(timespec="seconds"), "messages": self.messages,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "notify": [v.to_json() for v in self.notify], "queued": self.queued,
                "skipped": [s.to_json() for s in self.skipped]}


@dataclass(slots=True)
class InviteRun:
    activity: str
    segment: str
    invites: list[SuggestionView] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    def to_json(self, tz: Any = UTC) -> dict[str, Any]:
        return {"activity": self.activity, "segment": self.segment,
                "invites": [v.invite_json(tz) for v in self.invites],
                "skipped": [s.to_json() for s in self.skipped]}


# ---- the engine --------------------------------------------------------------------------
class _Suggester:
    """Shared state of one call: stores, settings, playbook, optional polish."""

    def __init__(self, store: Store, settings: Settings, labels: Mapping[str, str],
                 playbook: Playbook | None, polisher: Polisher | None) -> None:
        self.store = store
        self.settings = settings
        self.labels = labels
        self.cfg = suggest_config(settings)
        self.env = _drafting(settings, labels, playbook)
        self.polisher = polisher
        self.sstore = SuggestionStore(store.engine)
        # Operators already checked not to be a group chat (a chat never turns into a group).
        self._checked: set[str] = set()

    def operator_for(self, chat_id: str | None) -> str:
        op = self.cfg.operators.get(chat_id or "", self.cfg.operator)
        if op not in self._checked:
            if self.sstore.is_group_chat(op):
                raise ConfigError(f"{self.settings.source}: [suggest] 运营 {op} 是群聊："
                                  "建议只发给运营本人，不能发到群里")
            self._checked.add(op)
        return op

    def operators(self) -> set[str]:
        """Everyone the configuration addresses suggestions to."""
        return {self.cfg.operator, *self.cfg.operators.values()}

    def excluded(self, member: MemberRow) -> Skip | None:
        """Why this member gets nothing at all (opted out, or one of our own staff)."""
        if member.opted_out:
            return Skip(member.member_id, member.name, "opted_out", "已选择退出，不再打扰")
        if member.member_id in self.cfg.staff or member.name in self.cfg.staff:
            return Skip(member.member_id, member.name, "staff", "工作人员，不是客户")
        return None

    def _text(self, d: Draft, member: MemberRow) -> tuple[str, bool]:
        if self.polisher is None:
            return d.text, False
        result = self.polisher.polish(d.text, name=d.name, secrets=[member.member_id])
        return result.text, result.polished

    def _values(self, d: Draft, member: MemberRow, now: datetime) -> dict[str, Any]:
        t = d.trigger
        return {
            "trigger": t.key, "trigger_ts": t.ts, "message_id": t.message_id,
            "chat_id": t.chat_id, "activity": d.activity, "variant": d.variant,
            "template_text": d.text, "alternatives": d.alternatives, "why": d.why(),
            "reasons": [r.to_json() for r in d.reasons], "segments": dict(d.segments),
            "next_action": d.next_action, "updated_at": now,
            "operator": self.operator_for(t.chat_id),
        }

    def save(self, member: MemberRow, d: Draft, now: datetime, source: str = "hook",
             segment: str | None = None) -> tuple[SuggestionRow | None, str]:
        """Store a draft under the one-pending-per-member-and-scenario rule.

        Returns the row and what happened: created | updated | unchanged | older | stale.
        A newer trigger taking over an open row puts it back in the push queue when it came
        from the hook (`source`), since the operator has not seen the new message yet.
        """
        values = self._values(d, member, now)
        polished: list[tuple[str, bool]] = []

        def text() -> dict[str, Any]:
            # The polish may be an LLM call: at most once, and only when something is written.
            if not polished:
                polished.append(self._text(d, member))
            return {"text": polished[0][0], "polished": polished[0][1]}

        # Each step reads, then writes conditionally; another bot process on the same
        # database may have written in between (the write then reports it lost), and the
        # next round sees what it did. Three rounds are plenty: each lost race means the
        # other process made progress on this very member and scenario.
        for _ in range(3):
            done = self._save_once(member, d, now, source, segment, values, text)
            if done is not None:
                return done
        raise RuntimeError(f"suggestion for member {member.pk}/{d.scenario} kept changing")

    def _save_once(self, member: MemberRow, d: Draft, now: datetime, source: str,
                   segment: str | None, values: dict[str, Any],
                   text: Callable[[], dict[str, Any]]
                   ) -> tuple[SuggestionRow | None, str] | None:
        """One round of `save`; None when a conditional write lost a race."""
        ss = self.sstore
        existing, pending, closed = ss.slot(member.pk, d.scenario, d.trigger.key)
        if existing is not None:
            if existing.status == "pending" and existing.template_text != d.text:
                # The playbook or the persona changed: refresh the open draft in place.
                row = ss.update_open(existing.id, {**values, **text()})
                return None if row is None else (row, "updated")
            return existing, "unchanged"
        if d.scenario != "invite":
            if closed is not None and d.trigger.ts <= closed:
                return None, "stale"  # a newer one of this kind was already dealt with
            if pending is not None:
                if d.trigger.ts < pending.trigger_ts:
                    return pending, "older"
                row = ss.update_open(pending.id, {**values, **text(), "notified_at": None,
                                                  "source": source})
                return None if row is None else (row, "updated")
        row = ss.insert_row({**values, "member_pk": member.pk, "scenario": d.scenario,
                             "segment": segment, **text(), "status": "pending",
                             "created_at": now, "source": source})
        if row is None:
            return None  # another process stored this trigger or an open one just now
        return row, "created"


def _now(as_of: datetime | None) -> datetime:
    return as_of if as_of is not None else datetime.now(UTC)


def _texts(store: Store, pk: int, until: datetime
           ) -> tuple[list[MessageRecord], dict[str, str | None]]:
    msgs = store.messages_for([pk], until=until).get(pk, [])
    return [to_record(m) for m in msgs], {m.id: m.text for m in msgs}


def suggest_for_member(store: Store, settings: Settings, labels: Mapping[str, str],
                       member: MemberRow, as_of: datetime, *, playbook: Playbook | None = None,
                       polisher: Polisher | None = None,
                       view: PersonaView | None = None) -> list[SuggestionView]:
    """Suggestions for one member's latest triggering message and lifecycle, best first.

    Stored like the hook's (so they get a handle and a status), but not rate limited: the
    operator asked. Opted-out members and staff get an empty list. Pass `view` when the
    caller already built the member's persona as of `as_of`.
    """
    eng = _Suggester(store, settings, labels, playbook, polisher)
    if eng.excluded(member):
        return []
    if view is None:
        (view,) = build_personas(store, settings, labels, as_of, [member.pk])
    records, texts = _texts(store, member.pk, as_of)
    triggers = member_triggers(view.persona, records, texts, as_of,
                               timedelta(days=settings.intent_ttl_days),
                               timedelta(days=settings.new_days))
    out: list[SuggestionView] = []
    for trig in triggers:
        row, _ = eng.save(member, draft(view.persona, trig, eng.env), as_of, "demand")
        if row is not None and all(v.row.id != row.id for v in out):
            out.append(SuggestionView(row, member.member_id, member.name))
    return out


def suggest_for_new_messages(store: Store, settings: Settings, labels: Mapping[str, str],
                             as_of: datetime | None = None, *,
                             playbook: Playbook | None = None,
                             polisher: Polisher | None = None) -> SuggestRun:
    """The ingest hook: new triggering messages, newcomers and members turning declining.

    Call it after `Ingestor.finish` (file imports) or on the clock. Idempotent: a second call
    with nothing new changes nothing and notifies nothing. `as_of` is "now" (defaults to the
    clock); the hourly limit and the look-back are measured from it. The live bot, which
    knows which message just arrived, uses `SuggestHook.messages` instead.
    """
    return SuggestHook(store, settings, labels, playbook=playbook,
                       polisher=polisher).new_messages(as_of)


def suggest_for_messages(store: Store, settings: Settings, labels: Mapping[str, str],
                         message_ids: Iterable[str], as_of: datetime | None = None, *,
                         playbook: Playbook | None = None,
                         polisher: Polisher | None = None) -> SuggestRun:
    """The hook for messages just stored (by id): `SuggestHook.messages`, set up for one call."""
    return SuggestHook(store, settings, labels, playbook=playbook,
                       polisher=polisher).messages(message_ids, as_of)


class SuggestHook:
    """The trigger hook, set up once (configuration, playbook, polish) for many calls.

    Two ways to look for work:
    - `new_messages` re-reads everything newer than the watermark minus the look-back: after
      a file import, and on the clock (it also finds triggers nobody handed it);
    - `messages` looks only at the messages just stored, and at their senders: the live path,
      once per message. Its cost does not grow with the day's traffic or with the queue, which
      the full pass's would (it re-read a day of messages and the whole queue per message).
    Both keep the same rules (one pending row per member and scenario, the hourly cap, no
    staff, no opted-out members) because both end in `_draft_all` and `_notify`.
    """

    def __init__(self, store: Store, settings: Settings, labels: Mapping[str, str], *,
                 playbook: Playbook | None = None, polisher: Polisher | None = None) -> None:
        self.eng = _Suggester(store, settings, labels, playbook, polisher)
        # Active members' histories, kept in step with what `messages` sees stored and
        # checked against the database before each use (handlers/live_personas.py).
        self.personas = LivePersonas(store, settings, labels)
        # The live path's view of the shared state, synced every STATE_EVERY of its clock:
        # when it last synced, the watermark then, and the newest message seen since.
        self._synced_at: datetime | None = None
        self._watermark: datetime | None = None
        self._newest: datetime | None = None
        # operator → until when their hour is known to be full (pushes only ever add to the
        # hour, from any process, so "full until" stays true; an erasure only frees it early).
        self._full_until: dict[str, datetime] = {}

    def _since(self, now: datetime) -> tuple[datetime, datetime | None]:
        """(since, last run): where the hook's window starts, and when it last ran."""
        state = self.eng.sstore.get_states([_STATE_WATERMARK, _STATE_LAST_RUN])
        self._watermark = _parse_ts(state.get(_STATE_WATERMARK))
        return self._window(now), _parse_ts(state.get(_STATE_LAST_RUN))

    def _window(self, now: datetime) -> datetime:
        since = now - timedelta(hours=self.eng.cfg.max_age_hours)
        if self._watermark is not None:
            since = max(since, self._watermark - timedelta(hours=self.eng.cfg.lookback_hours))
        return since

    def flush(self) -> None:
        """Write the watermark the live path holds back (at shutdown): the next full pass then
        need not re-read the last minute. Losing it is harmless, only slower."""
        if self._newest is not None:
            self.eng.sstore.advance_state(_STATE_WATERMARK, _iso_utc(self._newest))
            self._newest = None

    def _declining(self, since: datetime, last_run: datetime | None, now: datetime
                   ) -> set[int]:
        """Members whose silence crossed `declining_days` since the last run."""
        gap = timedelta(days=self.eng.settings.declining_days)
        return set(self.eng.sstore.members_last_active_between((last_run or since) - gap,
                                                               now - gap))

    def new_messages(self, as_of: datetime | None = None) -> SuggestRun:
        """The full pass over the look-back window (see `suggest_for_new_messages`)."""
        eng = self.eng
        now = _now(as_of)
        run = SuggestRun(now)
        since, last_run = self._since(now)
        messages = eng.sstore.messages_between(since, now)
        run.messages = len(messages)
        found, first_in_window = _scan(messages)
        declining = self._declining(since, last_run, now)
        # Members seen for the first time inside the window may deserve a welcome.
        newcomers = {m.pk for m in eng.store.members(first_in_window)
                     if m.first_seen is not None and m.first_seen > since}
        newcomers = _drop_known(eng, run, found, newcomers)
        _draft_all(eng, run, now, found, first_in_window, newcomers, declining)
        _notify(eng, run, now)
        _save_state(eng, now, max((m.ts for m in messages), default=None))
        return run

    def messages(self, message_ids: Iterable[str], as_of: datetime | None = None
                 ) -> SuggestRun:
        """Just the given stored messages: their triggers, their senders' welcome, and the
        members who turned declining since the last run; then the operators' queues.

        Ids not stored (a duplicate is stored once; an opted-out sender's never) and messages
        outside the window (older than `max_age_hours`, or after `as_of`) are ignored. Only
        the configured operators' queues are looked at (`queued` stays None: counting the
        queue would cost a scan per message); the full pass serves everyone else.

        Per message this is one query for a message that triggers nothing. The shared state
        (watermark, last run) is read and written, and members turning declining looked for,
        once per `STATE_EVERY` of `as_of` rather than per message: a declining member is
        noticed up to that much later, and a crash loses at most that much watermark (the
        next full pass re-reads it; stored triggers are never made twice).
        """
        eng = self.eng
        now = _now(as_of)
        run = SuggestRun(now, queued=None)
        sync = self._synced_at is None or abs(now - self._synced_at) >= STATE_EVERY
        if sync:
            since, last_run = self._since(now)
            declining = self._declining(since, last_run, now)
        else:
            since, declining = self._window(now), set()
        stored = eng.sstore.live_messages(message_ids, since, now)
        messages = [m for m, _ in stored]
        for m in messages:
            self.personas.note(m)
        run.messages = len(messages)
        found, first_in_window = _scan(messages)
        newcomers = {m.member_pk for m, first_seen in stored
                     if first_seen is not None and first_seen > since}
        newcomers = _drop_known(eng, run, found, newcomers)
        # The full pass sees a newcomer's first words in its window; here only the new
        # message is at hand, so the first one is looked up (for welcome candidates only).
        first_in_window = {pk: rec for pk, rec in first_in_window.items() if pk not in newcomers}
        for pk in newcomers:
            first = eng.sstore.first_spoken(pk, since, now, SILENT_TYPES)
            if first is not None:
                first_in_window[pk] = to_record(first)
        _draft_all(eng, run, now, found, first_in_window, newcomers, declining,
                   self.personas.build)
        _notify(eng, run, now, eng.operators(), self._full_until)
        if messages:
            newest = max(m.ts for m in messages)
            self._newest = newest if self._newest is None else max(self._newest, newest)
        if sync:
            _save_state(eng, now, self._newest)
            self._newest = None
            self._synced_at = now
        return run


def _scan(messages: Sequence[StoredMessage]
          ) -> tuple[dict[int, dict[str, Trigger]], dict[int, MessageRecord]]:
    """The newest trigger per member and scenario (three questions in a row make one
    script), and each member's first spoken message among `messages`."""
    found: dict[int, dict[str, Trigger]] = defaultdict(dict)
    first_in_window: dict[int, MessageRecord] = {}
    for msg in messages:
        rec = to_record(msg)
        if msg.type not in SILENT_TYPES:
            first_in_window.setdefault(msg.member_pk, rec)
        trig = message_trigger(rec, msg.text)
        if trig is not None:
            _keep_newest(found[msg.member_pk], trig)
    return found, first_in_window


def _drop_known(eng: _Suggester, run: SuggestRun, found: dict[int, dict[str, Trigger]],
                newcomers: set[int]) -> set[int]:
    """Forget triggers already stored (the look-back re-reads a day of messages on every
    full pass), so personas are built only for members with something new; the newcomers
    still without a welcome are returned."""
    known = eng.sstore.known_triggers(set(found) | newcomers) if found or newcomers else {}
    for pk, trigs in found.items():
        for scenario, trig in list(trigs.items()):
            if (scenario, trig.key) in known.get(pk, ()):
                del trigs[scenario]
                run.unchanged += 1
    return {pk for pk in newcomers if ("welcome", "welcome") not in known.get(pk, ())}


def _draft_all(eng: _Suggester, run: SuggestRun, now: datetime,
               found: dict[int, dict[str, Trigger]], first_in_window: dict[int, MessageRecord],
               newcomers: set[int], declining: set[int],
               personas: Callable[[datetime, set[int]], list[PersonaView]] | None = None
               ) -> None:
    """Draft and store what the triggers call for, most urgent first. `personas` builds
    them (the live hook's cache) instead of `build_personas`; same result either way."""
    store, settings = eng.store, eng.settings
    pks = {pk for pk, trigs in found.items() if trigs} | newcomers | declining
    if not pks:
        views: list[PersonaView] = []
    elif personas is not None:
        views = personas(now, pks)
    else:
        views = build_personas(store, settings, eng.labels, now, pks)
    drafts: list[tuple[PersonaView, Draft]] = []
    for view in views:
        m, persona = view.member, view.persona
        trigs = found.get(m.pk, {})
        first = first_in_window.get(m.pk)
        if (m.pk in newcomers and persona.segments.get("lifecycle") == "new"
                and first is not None and persona.stats.get("first_seen") == first.ts):
            _keep_newest(trigs, welcome_trigger(persona, first, now))
        if m.pk in declining and persona.segments.get("lifecycle") == "declining":
            _keep_newest(trigs, _reactivate(store, persona, m.pk, now))
        if not trigs:
            continue
        skip = eng.excluded(m)
        if skip:
            run.skipped.append(skip)
            continue
        drafts.extend((view, draft(persona, t, eng.env)) for t in trigs.values())

    drafts.sort(key=lambda vd: (PRIORITY.index(vd[1].scenario), vd[1].trigger.ts))
    for view, d in drafts:
        _, action = eng.save(view.member, d, now)
        if action == "created":
            run.created += 1
        elif action == "updated":
            run.updated += 1
        else:
            run.unchanged += 1


def _save_state(eng: _Suggester, now: datetime, newest: datetime | None) -> None:
    """Record the run; the watermark only ever moves forward, whichever process writes."""
    ss = eng.sstore
    if newest is not None:
        ss.advance_state(_STATE_WATERMARK, _iso_utc(newest), {_STATE_LAST_RUN: now.isoformat()})
    else:
        ss.set_state({_STATE_LAST_RUN: now.isoformat()})


def _iso_utc(ts: datetime) -> str:
    # One fixed shape, so stored watermarks compare as text in the database.
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def _keep_newest(trigs: dict[str, Trigger], trig: Trigger) -> None:
    have = trigs.get(trig.scenario)
    if have is None or (trig.ts, trig.key) >= (have.ts, have.key):
        trigs[trig.scenario] = trig


def _reactivate(store: Store, persona: Persona, pk: int, now: datetime) -> Trigger:
    records, texts = _texts(store, pk, now)
    last = last_words(records)
    return reactivate_trigger(persona, last, texts.get(last.id) if last else None, now)


def _notify(eng: _Suggester, run: SuggestRun, now: datetime,
            operators: Iterable[str] | None = None,
            full_until: dict[str, datetime] | None = None) -> None:
    """Hand each operator the most urgent pending suggestions, up to the hourly limit.

    `operators` None: every operator something waits for, and `run.queued` counts what is
    left waiting. Otherwise only those operators' queues, without counting; `full_until`
    (kept by the caller across calls) skips operators whose hour is known to be full, so a
    busy community's messages cost no notify query at all until a slot frees up.
    """
    ss, cfg = eng.sstore, eng.cfg
    fresh_after = now - timedelta(hours=cfg.max_age_hours)
    sizes = ss.queue_sizes(fresh_after, now) if operators is None else None
    chosen: list[SuggestionRow] = []
    for op in sorted(sizes if sizes is not None else set(operators or ())):
        if full_until is not None and op in full_until and now < full_until[op]:
            continue
        claim = ss.claim_queued(op, cfg.per_operator_per_hour, now, fresh_after, PRIORITY)
        chosen += claim.rows
        if full_until is not None:
            if claim.full_until is not None:
                full_until[op] = claim.full_until
            else:
                full_until.pop(op, None)
        if sizes is not None and run.queued is not None:
            run.queued += sizes[op] - len(claim.rows)
    if not chosen:
        return
    members = {m.pk: m for m in eng.store.members({r.member_pk for r in chosen})}
    for r in chosen:
        m = members[r.member_pk]
        run.notify.append(SuggestionView(r, m.member_id, m.name))


def _parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# ---- invites -----------------------------------------------------------------------------
def draft_invites(store: Store, settings: Settings, labels: Mapping[str, str], activity: str,
                  segment: str, as_of: datetime, *, playbook: Playbook | None = None,
                  polisher: Polisher | None = None) -> InviteRun:
    """A per-member invite for everyone in `segment`, and why each other member is skipped.

    `segment` is any segment value code (high, new, price, core …) or a cluster code (c1 …),
    matched against each persona's segments. Drafts are stored as pending invites, so running
    the command again shows the same drafts with their handles instead of new ones.
    """
    activity = activity.strip()
    if not activity:
        raise SuggestError("活动名称不能为空")
    if not is_segment_code(segment):
        raise SuggestError(f"未知分群代码 {segment!r}，可用: "
                           + ", ".join(segment_codes()) + " 或兴趣圈代码 c1、c2…")
    eng = _Suggester(store, settings, labels, playbook, polisher)
    ss = eng.sstore
    run = InviteRun(activity, segment)
    recent = timedelta(days=eng.cfg.invite_recent_days)
    last_sent = ss.last_sent_invites(as_of)
    existing = ss.invites_for(activity)
    tz = settings.tz
    for view in build_personas(store, settings, labels, as_of):
        m, persona = view.member, view.persona
        d = draft_invite(persona, activity, segment, as_of, eng.env)
        if d is None:
            continue
        row = existing.get(m.pk)
        sent_at = last_sent.get(m.pk)
        skip = eng.excluded(m)
        if skip is None and sent_at is not None and as_of - sent_at < recent:
            skip = Skip(m.member_id, m.name, "recently_invited",
                        f"{_local(sent_at, tz)} 刚邀请过（{recent.days} 天内不重复邀请）")
        elif skip is None and row is not None and row.status in ACCEPTED:
            skip = Skip(m.member_id, m.name, "already_invited",
                        f"已于 {_local(row.status_at, tz)} 邀请过本活动")
        elif skip is None and row is not None and row.status == "dismissed":
            skip = Skip(m.member_id, m.name, "dismissed", "运营已决定不邀请")
        if skip:
            run.skipped.append(skip)
            continue
        saved, _ = eng.save(m, d, as_of, "invite", segment)
        if saved is not None:
            run.invites.append(SuggestionView(saved, m.member_id, m.name))
    return run


def _local(ts: datetime | None, tz: Any) -> str:
    return ts.astimezone(tz).strftime("%m-%d") if ts else "—"


# ---- feedback ----------------------------------------------------------------------------
# ASCII digits only, and few enough for a database integer: "#²" or a 30-digit number is
# simply no suggestion of ours.
_HANDLE_RE = re.compile(r"^#?\s*([0-9]{1,18})$", re.ASCII)


def set_status(store: Store, handle: int | str, status: str, at: datetime,
               text: str | None = None) -> SuggestionView:
    """Record what the operator did with suggestion `handle` ("12", "#12" or 12).

    `status` is sent, edited (pass what was really sent as `text`), dismissed, or pending to
    undo. The time `at` starts the outcome window (reply, signup, order within N days).
    """
    match = _HANDLE_RE.match(str(handle).strip())
    if not match:
        raise SuggestError(f"编号 {handle!r} 无效，应为数字，如 12")
    if status not in STATUSES:
        raise SuggestError(f"状态 {status!r} 无效，可用: {', '.join(STATUSES)}")
    ss = SuggestionStore(store.engine)
    sid = int(match.group(1))
    row = ss.get(sid)
    if row is None:
        raise SuggestError(f"没有编号为 {sid} 的建议")
    try:
        # Only if nobody (another operator, another bot process) changed it since we read it.
        won = ss.set_status(sid, status, at, text if status == "edited" else None,
                            expect=row.status)
    except OpenConflict as exc:
        raise SuggestError(f"#{sid} 不能改回待发：同一成员同类建议已有新的待发草稿") from exc
    if not won:
        now_row = ss.get(sid)
        state = now_row.status if now_row is not None else "已删除"
        raise SuggestError(f"#{sid} 刚被其他人处理过（现为 {state}），请刷新后再试")
    (member,) = store.members([row.member_pk])
    new = ss.get(sid)
    assert new is not None
    return SuggestionView(new, member.member_id, member.name)


@dataclass(slots=True)
class _Tally:
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    known: int = 0
    replied: int = 0
    joined: int = 0
    bought: int = 0
    orders_known: bool = False

    def add(self, status: str, outcome: Mapping[str, Any] | None) -> None:
        self.total += 1
        self.counts[status] += 1
        if outcome is None or not outcome["known"]:
            return
        self.known += 1
        self.replied += bool(outcome["replied"])
        self.joined += bool(outcome["joined"])
        if outcome["bought"] is not None:
            self.orders_known = True
            self.bought += bool(outcome["bought"])

    def to_json(self) -> dict[str, Any]:
        accepted = self.counts["sent"] + self.counts["edited"]
        decided = accepted + self.counts["dismissed"]
        return {
            "total": self.total, **self.counts, "accepted": accepted,
            "acceptance_rate": _rate(accepted, decided),
            "outcome_known": self.known, "replied": self.replied,
            "response_rate": _rate(self.replied, self.known),
            "joined": self.joined, "join_rate": _rate(self.joined, self.known),
            "bought": self.bought if self.orders_known else None,
            "purchase_rate": _rate(self.bought, self.known) if self.orders_known else None,
        }


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 3) if d else None


def outcome(ss: SuggestionStore, row: SuggestionRow, as_of: datetime, days: int
            ) -> dict[str, Any] | None:
    """What followed a sent suggestion within `days`: replied, joined (invites), bought.

    None for drafts never sent. `known` is true once the member replied or the window closed;
    until then an open window is not counted as "no reply".
    """
    if row.status not in ACCEPTED or row.status_at is None or row.status_at > as_of:
        return None
    start = row.status_at
    end = min(start + timedelta(days=days), as_of)
    later = ss.member_messages_after(row.member_pk, start, end)
    spoken = [(ts, text) for ts, typ, text in later if typ not in SILENT_TYPES]
    replied = bool(spoken)
    joined = bool(row.activity) and any(is_signup(text, row.activity or "") for _, text in spoken)
    orders = ss.orders_after(row.member_pk, start, end)
    return {"replied": replied, "joined": joined,
            "bought": None if orders is None else orders > 0,
            "known": replied or start + timedelta(days=days) <= as_of}


def feedback_summary(store: Store, as_of: datetime, settings: Settings | None = None
                     ) -> dict[str, Any]:
    """Acceptance and response rates per playbook variant, overall and per segment.

    Shape::

        {"as_of": ISO, "window_days": 7,
         "totals": TALLY,
         "by_variant": [{"scenario", "variant", **TALLY}],
         "by_variant_segment": [{"scenario", "variant", "dimension", "segment", **TALLY}]}

    TALLY = {total, pending, sent, edited, dismissed, accepted, acceptance_rate,
    outcome_known, replied, response_rate, joined, join_rate, bought, purchase_rate};
    acceptance = (sent + edited) / decided; response, join and purchase rates are over sent
    items whose outcome is known; rates are null without a denominator, and bought is null
    when no order table exists. `dimension` is lifecycle, motivation, value or layer, and
    `segment` the member's code at drafting time ("none" when unknown).
    """
    days = suggest_config(settings).outcome_days if settings is not None else 7
    ss = SuggestionStore(store.engine)
    totals = _Tally()
    by_variant: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    by_segment: dict[tuple[str, str, str, str], _Tally] = defaultdict(_Tally)
    for row in ss.all(until=as_of):
        out = outcome(ss, row, as_of, days)
        totals.add(row.status, out)
        by_variant[row.scenario, row.variant].add(row.status, out)
        for dim in ("lifecycle", "motivation", "value", "layer"):
            code = row.segments.get(dim) or "none"
            by_segment[row.scenario, row.variant, dim, code].add(row.status, out)
    order = {s: i for i, s in enumerate(PRIORITY)}

    def key(k: Sequence[str]) -> tuple[Any, ...]:
        return (order.get(k[0], 99), *k[1:])

    return {
        "as_of": as_of.isoformat(timespec="seconds"), "window_days": days,
        "totals": totals.to_json(),
        "by_variant": [{"scenario": s, "variant": v, **t.to_json()}
                       for (s, v), t in sorted(by_variant.items(), key=lambda kv: key(kv[0]))],
        "by_variant_segment": [
            {"scenario": s, "variant": v, "dimension": dim, "segment": code, **t.to_json()}
            for (s, v, dim, code), t in sorted(by_segment.items(), key=lambda kv: key(kv[0]))],
    }
