"""Who is staff: the one answer personas, segments, suggestions, invites and the report ask.

Staff run the community; they are not its customers. Profiling the group assistant, counting
a manager in a segment or sending an operator a welcome script about herself misleads every
figure and script built on top. Someone is staff when:
- siyu.toml names them: `[bot] managers` / `operators` (the live bot's roles), `[suggest]
  staff`, or the operators `[suggest]` addresses scripts to — by member id, platform id or
  name, as those settings are written;
- a chat export marks them owner or admin (ChatLab member roles, stored as
  `member.staff_role` when the export is imported).
Staff are never listed by `siyu personas`, never scripted, never counted in a segment run.
Their own messages still go in (a reply to a member is part of the conversation), and an
explicit look-up (`siyu persona 运营小美`, `/我的数据`) still answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.settings import Settings, section
from storage.members import MemberRow
from storage.repo import Store


def staff_ids(settings: Settings) -> frozenset[str]:
    """Ids and names siyu.toml makes staff (read leniently: the bot validates `[bot]`)."""
    ids: set[str] = set()
    bot = section(settings, "bot")
    suggest = section(settings, "suggest")
    for values in (bot.get("managers"), bot.get("operators"), suggest.get("staff"),
                   [suggest.get("operator")], list((suggest.get("operators") or {}).values())):
        if isinstance(values, list | tuple):
            ids.update(v for v in values if isinstance(v, str) and v)
    return frozenset(ids)


@dataclass(frozen=True, slots=True)
class Staff:
    """Staff as of one read: configured ids, and the members the database knows as staff
    (configured ids resolved, export owners/admins). A member first seen later (a manager
    who speaks after the bot started) is still caught by id or name."""

    ids: frozenset[str]
    pks: frozenset[int]

    def __contains__(self, member: object) -> bool:
        if not isinstance(member, MemberRow):
            return False
        return (member.pk in self.pks or member.member_id in self.ids
                or member.name in self.ids)


def staff_of(store: Store, settings: Settings) -> Staff:
    ids = staff_ids(settings)
    return Staff(ids, frozenset(store.staff_pks(ids)))
