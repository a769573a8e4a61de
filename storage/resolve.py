"""Who a row of a business import is about: the `member` value of an orders, events or
links file resolved to members (storage/business.py: `BusinessStore` inherits these).

Tried in order, first match wins: member id, any platform id, a linked external id, a linked
phone number (`external_link`, which `siyu link` fills), and last a name — the display name,
or any account name, group nickname or alias a chat export gave (`member_name`). Ids come
first because they cannot be ambiguous; a name that several members carry resolves to all of
them, and the caller lists them instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select, union
from sqlalchemy.engine import Connection, Engine

from storage.driver import chunks
from storage.models import IDENTITY, LINK, MEMBER, MEMBER_NAME


class MemberResolver:
    """`BusinessStore`'s member resolution."""

    engine: Engine

    def resolve_members(self, keys: Mapping[str, str | None]) -> dict[str, list[int]]:
        """Member pks for each value of an import's member column.

        `keys` maps the value as written to its phone-number form (None when it is not one).
        Tried in order, first match wins: member id, any platform id, a linked external id, a
        linked phone number, a name (display name, account name, group nickname, alias). An
        empty list means unknown; more than one means ambiguous (a name several members carry,
        or one platform id string used on two platforms).
        """
        values = list(keys)
        found: dict[str, list[int]] = {v: [] for v in values}
        with self.engine.connect() as conn:
            self._by_member_id(conn, values, found)
            self._by_platform_id(conn, [v for v in values if not found[v]], found)
            left = [v for v in values if not found[v]]
            self._by_link(conn, "external_id", {v: v for v in left}, found)
            left = {v: p for v in values if not found[v] and (p := keys[v])}
            self._by_link(conn, "phone", left, found)
            self._by_name(conn, [v for v in values if not found[v]], found)
        return found

    def resolve_link_targets(self, values: Iterable[str]) -> dict[str, list[int]]:
        """Member pks for the `member` column of a link file: member id, platform id, or an
        exact name of any kind (a name can match several members; the caller reports that)."""
        vals = list(dict.fromkeys(values))
        found: dict[str, list[int]] = {v: [] for v in vals}
        with self.engine.connect() as conn:
            self._by_member_id(conn, vals, found)
            self._by_platform_id(conn, [v for v in vals if not found[v]], found)
            self._by_name(conn, [v for v in vals if not found[v]], found)
        return found

    @staticmethod
    def _by_name(conn: Connection, values: Sequence[str],
                 found: dict[str, list[int]]) -> None:
        """Display names and every stored account name, group nickname and alias."""
        for part in chunks(values):
            q = union(select(MEMBER.c.name, MEMBER.c.id).where(MEMBER.c.name.in_(part)),
                      select(MEMBER_NAME.c.name, MEMBER_NAME.c.member_pk)
                      .where(MEMBER_NAME.c.name.in_(part)))
            for name, pk in conn.execute(q):
                if pk not in found[name]:
                    found[name].append(pk)
        for value in values:
            found[value].sort()

    @staticmethod
    def _by_member_id(conn: Connection, values: Sequence[str],
                      found: dict[str, list[int]]) -> None:
        for part in chunks(values):
            q = select(MEMBER.c.member_id, MEMBER.c.id).where(MEMBER.c.member_id.in_(part))
            for mid, pk in conn.execute(q):
                found[mid] = [pk]

    @staticmethod
    def _by_platform_id(conn: Connection, values: Sequence[str],
                        found: dict[str, list[int]]) -> None:
        for part in chunks(values):
            q = select(IDENTITY.c.platform_id, IDENTITY.c.member_pk).where(
                IDENTITY.c.platform_id.in_(part)).order_by(IDENTITY.c.member_pk)
            for pid, pk in conn.execute(q):
                if pk not in found[pid]:
                    found[pid].append(pk)

    @staticmethod
    def _by_link(conn: Connection, kind: str, lookups: Mapping[str, str],
                 found: dict[str, list[int]]) -> None:
        """`lookups`: value as written → the stored form to look for."""
        wanted: dict[str, list[str]] = {}
        for value, stored in lookups.items():
            wanted.setdefault(stored, []).append(value)
        for part in chunks(list(wanted)):
            q = select(LINK.c.value, LINK.c.member_pk).where(LINK.c.kind == kind,
                                                              LINK.c.value.in_(part))
            for stored, pk in conn.execute(q):
                for value in wanted[stored]:
                    found[value] = [pk]
