"""Activity invites: a per-member draft for everyone in a segment, and why each other member
is skipped (`siyu invite`, 邀请 in chat)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.personas import build_personas
from handlers.settings import Settings
from handlers.suggest import Polisher, Skip, Suggester, SuggestError, SuggestionView
from persona.playbook import (
    Playbook,
)
from persona.suggest import (
    draft_invite,
    is_segment_code,
    segment_codes,
)
from storage.repo import Store
from storage.suggestion_rows import ACCEPTED


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
    eng = Suggester(store, settings, labels, playbook, polisher)
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
