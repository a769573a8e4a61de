"""The per-group view (`siyu groups`): each group chat's size, activity, what its members
care about and the scripts still open for them.

Operators run groups, not a flat member list: which group is quiet, which one asks about
prices, where scripts wait. Counts are of customers only (staff are never counted,
handlers/staff.py) and of what was said up to `as_of`, like every other reading command.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handlers.personas import build_personas
from handlers.settings import Settings
from storage.repo import Store
from storage.suggestions import SuggestionStore

ACTIVE_DAYS = 7
# An interest counts for a member once its score reaches this (the demo's 兴趣热度 uses it too).
INTEREST_SCORE = 0.3


@dataclass(slots=True)
class GroupView:
    chat_id: str
    name: str
    members: int = 0
    messages: int = 0
    active_members: int = 0  # spoke in the last ACTIVE_DAYS days before as_of
    last_message: datetime | None = None
    interests: list[tuple[str, int]] = field(default_factory=list)  # label, members
    open_scripts: int = 0

    def to_json(self, tz: Any) -> dict[str, Any]:
        last = self.last_message.astimezone(tz).isoformat() if self.last_message else None
        return {"chat_id": self.chat_id, "name": self.name, "members": self.members,
                "messages": self.messages, "active_members": self.active_members,
                "active_days": ACTIVE_DAYS, "last_message": last,
                "top_interests": [{"label": label, "members": n} for label, n in self.interests],
                "open_scripts": self.open_scripts}


def group_views(store: Store, settings: Settings, labels: Mapping[str, str],
                as_of: datetime, top: int = 3) -> list[GroupView]:
    """Every group chat with a customer in it, the biggest first."""
    views = {v.member.pk: v for v in build_personas(store, settings, labels, as_of)}
    suggestions = SuggestionStore(store.engine)
    groups = suggestions.group_chat_ids()
    names = store.chat_names()
    out: dict[str, GroupView] = {}
    people: dict[str, set[int]] = {}
    active: dict[str, set[int]] = {}
    since = as_of - timedelta(days=ACTIVE_DAYS)
    for pk, messages in store.messages_for(list(views), until=as_of).items():
        for msg in messages:
            if msg.chat_id not in groups:
                continue
            g = out.get(msg.chat_id)
            if g is None:
                g = out[msg.chat_id] = GroupView(msg.chat_id, names.get(msg.chat_id) or msg.chat_id)
            people.setdefault(msg.chat_id, set()).add(pk)
            if msg.type == "system":
                continue  # a join notice makes a member, not activity
            g.messages += 1
            g.last_message = max(filter(None, (g.last_message, msg.ts)))
            if msg.ts > since:
                active.setdefault(msg.chat_id, set()).add(pk)
    for chat_id, g in out.items():
        members = people[chat_id]
        g.members, g.active_members = len(members), len(active.get(chat_id, ()))
        heat: Counter[str] = Counter()
        for pk in members:
            heat.update({t.label for t in views[pk].persona.tags
                         if t.kind == "interest" and t.score >= INTEREST_SCORE})
        g.interests = heat.most_common(top)
    for row in suggestions.all(until=as_of):
        if row.status == "pending" and row.chat_id in out and row.member_pk in views:
            out[row.chat_id].open_scripts += 1
    return sorted(out.values(), key=lambda g: (-g.members, -g.messages, g.chat_id))
