"""The feedback loop: what operators did with each suggestion (sent, edited, dismissed), and
what followed (a reply, a signup, an order) — which playbook variants work, per segment."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handlers.settings import Settings
from handlers.suggest import SuggestError, SuggestionView
from handlers.suggest_config import suggest_config
from persona.persona import SILENT_TYPES
from persona.suggest import (
    PRIORITY,
    is_signup,
)
from storage.repo import Store
from storage.suggestion_rows import ACCEPTED, STATUSES, OpenConflict, SuggestionRow
from storage.suggestions import SuggestionStore

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
