"""Suggestions for the operator: a draft stored under the rules every way in keeps.

The ways in, each in its own module, all drafting through `Suggester` here:
- `suggest_for_member` (here) — `siyu suggest MEMBER` and 建议 @成员: the member's latest
  triggering message and lifecycle moments, on demand (the operator asked: no rate limit);
- handlers/triggers.py — the hook after ingest and on the clock (`suggest_for_new_messages`);
- handlers/live.py — the live bot, per message (`LiveTriggers.messages`);
- handlers/invites.py — `siyu invite ACTIVITY --segment CODE`.
Configuration and the playbook come from handlers/suggest_config.py; what operators did with
the suggestions is handlers/feedback.py.

Rules that hold on every path: opted-out members never get anything; one pending suggestion
per member and scenario (a newer trigger updates it, an already-seen trigger changes nothing);
suggestions are addressed to an operator, never to a chat, and an operator id that is a group
is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from handlers.personas import PersonaView, build_personas, to_record
from handlers.settings import ConfigError, Settings
from handlers.staff import staff_of
from handlers.suggest_config import load_drafting, suggest_config
from persona.persona import MessageRecord, iso
from persona.playbook import (
    Playbook,
)
from persona.suggest import (
    Draft,
    draft,
    member_triggers,
    next_action_label,
)
from storage.members import MemberRow
from storage.repo import Store
from storage.suggestion_rows import SuggestionRow
from storage.suggestions import SuggestionStore


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



# ---- the engine --------------------------------------------------------------------------
class Suggester:
    """Shared state of one call: stores, settings, playbook, optional polish."""

    def __init__(self, store: Store, settings: Settings, labels: Mapping[str, str],
                 playbook: Playbook | None, polisher: Polisher | None) -> None:
        self.store = store
        self.settings = settings
        self.labels = labels
        self.cfg = suggest_config(settings)
        self.env = load_drafting(settings, labels, playbook)
        self.polisher = polisher
        self.sstore = SuggestionStore(store.engine)
        # Staff never get scripts, about themselves or anyone's welcome (handlers/staff.py).
        self.staff = staff_of(store, settings)
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
        if member in self.staff:
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


def member_texts(store: Store, pk: int, until: datetime
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
    eng = Suggester(store, settings, labels, playbook, polisher)
    if eng.excluded(member):
        return []
    if view is None:
        (view,) = build_personas(store, settings, labels, as_of, [member.pk])
    records, texts = member_texts(store, member.pk, as_of)
    triggers = member_triggers(view.persona, records, texts, as_of,
                               timedelta(days=settings.intent_ttl_days),
                               timedelta(days=settings.new_days))
    out: list[SuggestionView] = []
    for trig in triggers:
        row, _ = eng.save(member, draft(view.persona, trig, eng.env), as_of, "demand")
        if row is not None and all(v.row.id != row.id for v in out):
            out.append(SuggestionView(row, member.member_id, member.name))
    return out
