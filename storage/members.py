"""Members and their platform identities: who sent something, newcomers, member reads.

A member has one stable public id and any number of platform identities (storage/models.py).
`ensure_members` is the one place members are created: by an ingest batch
(storage/batches.py) and by a member's first command (storage/privacy.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, insert, or_, select, tuple_
from sqlalchemy.engine import Connection, Engine

from storage import driver
from storage.db import insert_skipping_conflicts, pg_text
from storage.driver import Query, chunks
from storage.models import IDENTITY, MEMBER, MEMBER_NAME

# PostgreSQL advisory lock (transaction-scoped, per database) held while creating members;
# the key next to storage.db.PG_SCHEMA_LOCK.
PG_MEMBER_LOCK = 0x5159_0002


class MemberRow(NamedTuple):
    pk: int
    member_id: str
    name: str
    first_seen: datetime | None
    last_active: datetime | None
    opted_out: bool


def _find_identities(conn: Connection, keys: Sequence[tuple[str, str]],
                     pks: dict[tuple[str, str], int]) -> None:
    # On PostgreSQL an id with a NUL comes back as stored (storage.db.pg_text): map it to the
    # key that was asked for, or the member would be created a second time.
    asked = ({(pg_text(p), pg_text(i)): (p, i) for p, i in keys}
             if conn.dialect.name == "postgresql" else {})
    for part in chunks(keys):
        for platform, pid, pk in driver.rows(conn, _MemberQ.identities, {"keys": list(part)}):
            pks[asked.get((platform, pid), (platform, pid))] = pk


def ensure_members(conn: Connection, people: dict[tuple[str, str], str]
                   ) -> tuple[dict[tuple[str, str], int], set[int]]:
    """Member pks for (platform, platform_id) keys, creating members and identities as needed."""
    keys = list(people)
    pks: dict[tuple[str, str], int] = {}
    _find_identities(conn, keys, pks)
    if conn.dialect.name == "postgresql" and len(pks) < len(keys):
        # Two processes meeting the same newcomer would both insert her: the second would
        # fail on the unique member id and lose its whole batch. Creators take turns instead
        # (held to the end of this transaction, so the next one sees what this one made),
        # and look again once it is their turn. SQLite already serialises its writers.
        conn.execute(select(func.pg_advisory_xact_lock(PG_MEMBER_LOCK)))
        _find_identities(conn, [k for k in keys if k not in pks], pks)
    missing = [key for key in keys if key not in pks]
    if not missing:
        return pks, set()
    # The public member id is the platform id; another platform's person with the same id
    # string gets a qualified one, so ids never collide (also within this batch: first come,
    # plain id). One insert for all newcomers, not three statements each: a first import
    # meets thousands of them.
    taken: set[str] = set()
    for part in chunks(sorted({pid for _, pid in missing})):
        taken.update(r[0] for r in driver.rows(conn, _MemberQ.member_ids, {"ids": list(part)}))
    # Compare ids as the server stores them (storage.db.pg_text), as SQL would have.
    stored = pg_text if conn.dialect.name == "postgresql" else str
    member_ids: list[str] = []
    for platform, pid in missing:
        member_id = f"{platform}:{pid}" if stored(pid) in taken else pid
        taken.add(stored(member_id))
        member_ids.append(member_id)
    driver.write_many(conn, _MemberQ.insert_member, [
        {"member_id": mid, "name": people[key] or key[1], "opted_out": False,
         "tags_stale": False}
        for mid, key in zip(member_ids, missing, strict=True)])
    by_member_id: dict[str, int] = {}
    for part in chunks(member_ids):
        by_member_id.update(driver.rows(conn, _MemberQ.member_pks, {"ids": list(part)}))
    created: set[int] = set()
    identities = []
    for mid, (platform, pid) in zip(member_ids, missing, strict=True):
        pk = pks[platform, pid] = by_member_id[stored(mid)]
        created.add(pk)
        identities.append({"member_pk": pk, "platform": platform, "platform_id": pid})
    driver.write_many(conn, _MemberQ.insert_identity, identities)
    return pks, created


def remember_names(conn: Connection, pks: dict[tuple[str, str], int],
                   names: dict[tuple[str, str], set[str]],
                   roles: dict[tuple[str, str], str]) -> None:
    """Keep every name a chat export gives a member (account name, group nickname, aliases),
    so an operator typing any of them finds her; mark export owners/admins as staff.
    Keys are (platform, platform id), as `ensure_members` returned their pks."""
    rows = [{"member_pk": pks[k], "name": n} for k, ns in names.items() for n in sorted(ns) if n]
    staff = {pks[k]: role for k, role in roles.items()}
    if rows:
        conn.execute(insert_skipping_conflicts(conn, MEMBER_NAME, ("member_pk", "name")), rows)
    for role in sorted(set(staff.values())):
        pks = sorted(pk for pk, r in staff.items() if r == role)
        for part in chunks(pks):
            conn.execute(MEMBER.update().where(MEMBER.c.id.in_(part))
                         .values(staff_role=role))


def opted_out(conn: Connection, pks: set[int]) -> set[int]:
    """Which of these members opted out: their messages are dropped before storage."""
    if not pks:
        return set()
    out: set[int] = set()
    for part in chunks(sorted(pks)):
        out.update(r[0] for r in driver.rows(conn, _MemberQ.opted_out, {"pks": list(part)}))
    return out


def lock_members(conn: Connection, pks: Sequence[int]) -> None:
    """Lock member rows (in pk order) for the rest of the transaction, on servers that can.

    Two processes rebuilding the same member's tags at once on PostgreSQL would both delete
    the old rows and both insert new ones, and the second insert would break the
    (member, code, source) key. The lock makes the second wait and then replace the first's
    rows. SQLite ignores FOR UPDATE; its writers never overlap.
    """
    for part in chunks(sorted(pks)):
        conn.execute(select(MEMBER.c.id).where(MEMBER.c.id.in_(part)).order_by(MEMBER.c.id)
                     .with_for_update(key_share=True)).all()


class MemberReads:
    """`Store`'s member reads (storage/repo.py)."""

    engine: Engine

    def members(self, pks: Iterable[int] | None = None) -> list[MemberRow]:
        with self.engine.connect() as conn:
            if pks is None:
                return [MemberRow(*r) for r in conn.execute(_MemberQ.all_members)]
            out: list[MemberRow] = []
            for part in chunks(sorted(set(pks))):
                out.extend(MemberRow(*r) for r in driver.rows(conn, _MemberQ.members,
                                                              {"pks": list(part)}))
            return out

    def find_members(self, query: str, partial: bool = True) -> list[MemberRow]:
        """Resolve what an operator typed: member id, any platform id, or a name (display
        name, account name, group nickname or alias; whole first, then a part of one)."""
        base = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                      MEMBER.c.last_active, MEMBER.c.opted_out)
        with self.engine.connect() as conn:
            exact = base.where(or_(
                MEMBER.c.member_id == query,
                MEMBER.c.id.in_(select(IDENTITY.c.member_pk)
                                .where(IDENTITY.c.platform_id == query))))
            rows = [MemberRow(*r) for r in conn.execute(exact)]
            if not rows:
                named = select(MEMBER_NAME.c.member_pk).where(MEMBER_NAME.c.name == query)
                rows = [MemberRow(*r) for r in conn.execute(base.where(or_(
                    MEMBER.c.name == query, MEMBER.c.id.in_(named))).order_by(MEMBER.c.id))]
            if not rows and partial:
                # icontains, not contains: SQLite's LIKE ignores ASCII case and PostgreSQL's
                # does not, so "lily" found "Lily" only on SQLite. lower() … LIKE on SQLite and
                # ILIKE on PostgreSQL give both the same answer.
                like = base.where(MEMBER.c.name.icontains(query, autoescape=True))
                rows = [MemberRow(*r) for r in conn.execute(like.order_by(MEMBER.c.id))]
            return rows

    def staff_pks(self, ids: Iterable[str]) -> set[int]:
        """Members a chat export marked owner/admin, and those whose member id, platform id
        or name is one of `ids` (the staff siyu.toml names): handlers/staff.py."""
        wanted = sorted(set(ids))
        with self.engine.connect() as conn:
            found = set(conn.scalars(select(MEMBER.c.id).where(MEMBER.c.staff_role.is_not(None))))
            for part in chunks(wanted):
                found.update(conn.scalars(select(MEMBER.c.id).where(or_(
                    MEMBER.c.member_id.in_(part), MEMBER.c.name.in_(part)))))
                found.update(conn.scalars(select(IDENTITY.c.member_pk)
                                          .where(IDENTITY.c.platform_id.in_(part))))
        return found

    def platform_id_of(self, pk: int, platform: str) -> str | None:
        """The member's id on `platform` (what its events carry as sender), if any."""
        q = select(IDENTITY.c.platform_id).where(IDENTITY.c.member_pk == pk,
                                                 IDENTITY.c.platform == platform)
        with self.engine.connect() as conn:
            return conn.scalars(q.order_by(IDENTITY.c.id)).first()

    def member_by_platform_id(self, platform_id: str) -> MemberRow | None:
        """Exact lookup of who sent something: by member id or platform id, never by name."""
        q = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                   MEMBER.c.last_active, MEMBER.c.opted_out).where(or_(
                       MEMBER.c.member_id == platform_id,
                       MEMBER.c.id.in_(select(IDENTITY.c.member_pk)
                                       .where(IDENTITY.c.platform_id == platform_id))))
        with self.engine.connect() as conn:
            row = conn.execute(q.order_by(MEMBER.c.id)).first()
        return MemberRow(*row) if row else None


class _MemberQ:
    """The member statements a live message runs, built once (see storage/driver.py)."""

    all_members = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                         MEMBER.c.last_active, MEMBER.c.opted_out).order_by(MEMBER.c.id)
    members = Query(all_members.where(MEMBER.c.id.in_(bindparam("pks", expanding=True))))
    # The reads a live message's write transaction makes, run through the driver on SQLite.
    opted_out = Query(select(MEMBER.c.id).where(
        MEMBER.c.id.in_(bindparam("pks", expanding=True)), MEMBER.c.opted_out.is_(True)))
    identities = Query(select(IDENTITY.c.platform, IDENTITY.c.platform_id, IDENTITY.c.member_pk)
                       .where(tuple_(IDENTITY.c.platform, IDENTITY.c.platform_id)
                              .in_(bindparam("keys", expanding=True))))
    member_ids = Query(select(MEMBER.c.member_id)
                       .where(MEMBER.c.member_id.in_(bindparam("ids", expanding=True))))
    member_pks = Query(select(MEMBER.c.member_id, MEMBER.c.id)
                       .where(MEMBER.c.member_id.in_(bindparam("ids", expanding=True))))
    insert_member = Query(insert(MEMBER))
    insert_identity = Query(insert(IDENTITY))
