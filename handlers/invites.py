"""Activity invites: a per-member draft for everyone in a segment, and why each other member
is skipped (`siyu invite`, 邀请 in chat).

An invite promises only what the operator gave: the playbook's invite templates word the
activity's name for the persona (motivation, interest, lifecycle) and state no facts, and the
time, place and perk the operator typed are appended word for word. An invite that promised a
coupon or a children's corner nobody had planned cost the operator an apology.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.personas import build_personas
from handlers.settings import Settings
from handlers.suggest import Polisher, Skip, Suggester, SuggestError, SuggestionView
from persona.playbook import (
    Playbook,
)
from persona.scripts import Script
from persona.suggest import (
    draft_invite,
    is_segment_code,
    segment_codes,
)
from storage.repo import Store
from storage.suggestion_rows import ACCEPTED


@dataclass(frozen=True, slots=True)
class InviteDetails:
    """The facts of an activity the operator gave, each optional; nothing else is claimed."""

    time: str | None = None
    place: str | None = None
    perk: str | None = None

    def sentence(self) -> str:
        """"时间：周六 10:00；地点：门店二楼；福利：到场送试用装。", or "" when none was given."""
        parts = [f"{label}：{value.strip()}" for label, value in
                 (("时间", self.time), ("地点", self.place), ("福利", self.perk))
                 if value and value.strip()]
        return "；".join(parts) + "。" if parts else ""


# The chat command's spelling of the details: /邀请 周末烘焙课 new 时间=周六10点 地点=门店
DETAIL_KEYS = {"时间": "time", "time": "time", "地点": "place", "place": "place",
               "福利": "perk", "perk": "perk"}


def split_details(args: Sequence[str]) -> tuple[list[str], InviteDetails]:
    """The words of a chat command without its `时间=… 地点=… 福利=…` parts, and those parts."""
    rest: list[str] = []
    found: dict[str, str] = {}
    for word in args:
        key, sep, value = word.partition("=")
        if not sep:
            key, sep, value = word.partition("＝")
        field_name = DETAIL_KEYS.get(key.strip().lower()) if sep else None
        if field_name and value.strip():
            found[field_name] = value.strip()
        else:
            rest.append(word)
    return rest, InviteDetails(**found)


def with_details(scripts: Sequence[Script], details: InviteDetails) -> tuple[Script, ...]:
    """Each script followed by the operator's own facts, word for word."""
    sentence = details.sentence()
    if not sentence:
        return tuple(scripts)
    return tuple(replace(s, text=f"{s.text}{sentence}") for s in scripts)


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
                  polisher: Polisher | None = None,
                  details: InviteDetails | None = None) -> InviteRun:
    """A per-member invite for everyone in `segment`, and why each other member is skipped.

    `segment` is any segment value code (high, new, price, core …) or a cluster code (c1 …),
    matched against each persona's segments. Drafts are stored as pending invites, so running
    the command again shows the same drafts with their handles instead of new ones.
    `details` (time, place, perk) are appended to every script as given.
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
        if details is not None:
            d = replace(d, scripts=with_details(d.scripts, details))
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
