"""The suggestion hook's full pass: every triggering message newer than the stored watermark
(minus a look-back, so a late file import of recent history is still seen), newcomers and
members who just crossed into "declining", drafted, stored, and what each operator may be
handed now.

It runs after imports and on the clock. The live bot's per-message pass (handlers/live.py:
`LiveTriggers`) shares its steps: `scan`, `drop_known`, `draft_all`, `notify`, `save_state`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.personas import PersonaView, build_personas, to_record
from handlers.settings import Settings
from handlers.suggest import Polisher, Skip, Suggester, SuggestionView, member_texts
from persona.persona import SILENT_TYPES, MessageRecord, Persona
from persona.phrases import prepare as prepare_phrases
from persona.playbook import (
    Playbook,
)
from persona.suggest import (
    PRIORITY,
    Draft,
    Trigger,
    draft,
    last_words,
    message_trigger,
    reactivate_trigger,
    welcome_trigger,
)
from storage.messages import StoredMessage
from storage.repo import Store
from storage.suggestion_rows import SuggestionRow

# Keys of the hook's shared state (table suggest_state), written by every bot process.
STATE_WATERMARK = "watermark"
STATE_LAST_RUN = "last_run"


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


class SuggestHook:
    """The trigger hook, set up once (configuration, playbook, polish) for many calls.

    Two ways to look for work:
    - `new_messages` (here) re-reads everything newer than the watermark minus the look-back:
      after a file import, and on the clock (it also finds triggers nobody handed it);
    - `messages` (handlers/live.py: `LiveTriggers`) looks only at the messages just stored,
      and at their senders: the live path, once per message. Its cost does not grow with the
      day's traffic or with the queue, which the full pass's would.
    Both keep the same rules (one pending row per member and scenario, the hourly cap, no
    staff, no opted-out members) because both end in `draft_all` and `notify`.
    """

    def __init__(self, store: Store, settings: Settings, labels: Mapping[str, str], *,
                 playbook: Playbook | None = None, polisher: Polisher | None = None) -> None:
        self.eng = Suggester(store, settings, labels, playbook, polisher)
        # Every triggering message is read for what it is about (persona/phrases.py): load
        # its dictionary with the rest of the hook, not while the first complaint waits.
        prepare_phrases()
        # The shared watermark as last read (see `_since`).
        self._watermark: datetime | None = None

    def _since(self, now: datetime) -> tuple[datetime, datetime | None]:
        """(since, last run): where the hook's window starts, and when it last ran."""
        state = self.eng.sstore.get_states([STATE_WATERMARK, STATE_LAST_RUN])
        self._watermark = _parse_ts(state.get(STATE_WATERMARK))
        return self._window(now), _parse_ts(state.get(STATE_LAST_RUN))

    def _window(self, now: datetime) -> datetime:
        since = now - timedelta(hours=self.eng.cfg.max_age_hours)
        if self._watermark is not None:
            since = max(since, self._watermark - timedelta(hours=self.eng.cfg.lookback_hours))
        return since

    def _declining(self, since: datetime, last_run: datetime | None, now: datetime
                   ) -> set[int]:
        """Members whose silence crossed `declining_days` since the last run."""
        gap = timedelta(days=self.eng.settings.declining_days)
        return set(self.eng.sstore.members_last_active_between((last_run or since) - gap,
                                                               now - gap))

    def new_messages(self, as_of: datetime | None = None) -> SuggestRun:
        """The full pass over the look-back window (see `suggest_for_new_messages`)."""
        eng = self.eng
        now = now_or_clock(as_of)
        run = SuggestRun(now)
        since, last_run = self._since(now)
        messages = eng.sstore.messages_between(since, now)
        run.messages = len(messages)
        found, first_in_window = scan(messages)
        declining = self._declining(since, last_run, now)
        # Members seen for the first time inside the window may deserve a welcome.
        newcomers = {m.pk for m in eng.store.members(first_in_window)
                     if m.first_seen is not None and m.first_seen > since}
        newcomers = drop_known(eng, run, found, newcomers)
        draft_all(eng, run, now, found, first_in_window, newcomers, declining)
        notify(eng, run, now)
        save_state(eng, now, max((m.ts for m in messages), default=None))
        return run


def now_or_clock(as_of: datetime | None) -> datetime:
    return as_of if as_of is not None else datetime.now(UTC)


def scan(messages: Sequence[StoredMessage]
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


def drop_known(eng: Suggester, run: SuggestRun, found: dict[int, dict[str, Trigger]],
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


def draft_all(eng: Suggester, run: SuggestRun, now: datetime,
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


def save_state(eng: Suggester, now: datetime, newest: datetime | None) -> None:
    """Record the run; the watermark only ever moves forward, whichever process writes."""
    ss = eng.sstore
    if newest is not None:
        ss.advance_state(STATE_WATERMARK, iso_utc(newest), {STATE_LAST_RUN: now.isoformat()})
    else:
        ss.set_state({STATE_LAST_RUN: now.isoformat()})


def iso_utc(ts: datetime) -> str:
    # One fixed shape, so stored watermarks compare as text in the database.
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def _keep_newest(trigs: dict[str, Trigger], trig: Trigger) -> None:
    have = trigs.get(trig.scenario)
    if have is None or (trig.ts, trig.key) >= (have.ts, have.key):
        trigs[trig.scenario] = trig


def _reactivate(store: Store, persona: Persona, pk: int, now: datetime) -> Trigger:
    records, texts = member_texts(store, pk, now)
    last = last_words(records)
    return reactivate_trigger(persona, last, texts.get(last.id) if last else None, now)


def notify(eng: Suggester, run: SuggestRun, now: datetime,
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
