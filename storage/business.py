"""Business data beside the chat: orders, content interactions, and external-id links.

Three tables (declared in storage/models.py):

- `orders` — one row per order, keyed by the shop's own `order_id`, so re-importing an export
  (or an overlapping one) is a no-op. A stored order is never overwritten: a row with the same
  id but other content comes back as a conflict for the importer to report.
- `content_event` — article / video / live interactions from other channels. They carry no id
  of their own, so the key is (member, `persona.commerce.content_event_id`), a hash of the
  event's fields; the same id is the persona's evidence for content tags.
- `external_link` — shop customer ids and phone numbers → members (`siyu link`). A link is
  never silently moved to another member: that is a conflict too.

Two processes importing overlapping files at once store every row once and both finish: on
SQLite a writer's checks run under the write lock (`storage.db.writing`); on PostgreSQL the
insert skips what the other process stored after the check (ON CONFLICT DO NOTHING) and those
rows are judged again as duplicates or conflicts (`_insert_new`).

Writes mark the affected members' derived tags stale in the same transaction, exactly like a
message batch, so `handlers.personas.refresh_stale_tags` (run by these imports and by
`siyu ingest`) rebuilds them and a crash in between heals on the next run.

Reads return the shared `persona.commerce` records grouped by member pk, which is what
persona aggregation and segmentation take. Which member a file's row is about is
storage/resolve.py (`BusinessStore` inherits it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Table,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, Engine

from persona.commerce import ContentEventRecord, OrderRecord, content_event_id
from storage.db import insert_skipping_conflicts, pg_text, writing
from storage.driver import chunks
from storage.models import EVENT, LINK, MEMBER, ORDER
from storage.repo import Store
from storage.resolve import MemberResolver

LINK_KINDS = ("external_id", "phone")


# ---- rows in and out -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NewOrder:
    order_id: str
    member_pk: int
    ts: datetime
    amount: float
    category: str | None
    coupon_used: bool
    origin: str

    def same_as(self, stored: StoredOrder) -> bool:
        """Same order content (the origin may differ: the same order in another export)."""
        return (self.member_pk, self.ts, round(self.amount, 2), self.category,
                self.coupon_used) == (stored.member_pk, stored.ts, round(stored.amount, 2),
                                      stored.category, stored.coupon_used)


class StoredOrder(NamedTuple):
    order_id: str
    member_pk: int
    ts: datetime
    amount: float
    category: str | None
    coupon_used: bool
    origin: str


@dataclass(frozen=True, slots=True)
class NewContentEvent:
    member_pk: int
    event: ContentEventRecord
    origin: str

    @property
    def key(self) -> tuple[int, str]:
        return self.member_pk, content_event_id(self.event)


@dataclass(frozen=True, slots=True)
class NewLink:
    kind: str  # one of LINK_KINDS
    value: str
    member_pk: int
    origin: str


class StoredLink(NamedTuple):
    kind: str
    value: str
    member_pk: int
    origin: str


@dataclass(slots=True)
class WriteResult:
    """What one business-data transaction did.

    `conflicts` pairs each refused row with what is stored (a `StoredOrder` for orders, a
    `StoredLink` for links); the importer turns them into rejects naming the line.
    """

    new: int = 0
    duplicate: int = 0
    opted_out: int = 0
    conflicts: list[tuple[Any, Any]] = field(default_factory=list)
    touched_members: set[int] = field(default_factory=set)


class BusinessStore(MemberResolver):
    """Repository for the business tables. Shares the engine of the chat `Store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def of(cls, store: Store) -> BusinessStore:
        return cls(store.engine)

    # ---- writing ------------------------------------------------------------------------------
    def write_orders(self, rows: Sequence[NewOrder]) -> WriteResult:
        """Insert new orders in one transaction; known ids are duplicates or conflicts.

        The caller removes repeats within its file first (it knows the lines). Orders of
        members who opted out are dropped here, as their messages are. An order another
        process stores while this runs (two imports of overlapping exports) is judged like
        one stored before: see `_insert_new`.
        """
        result = WriteResult()
        with writing(self.engine) as conn:
            stored = self._stored_orders(conn, [r.order_id for r in rows])
            opted = _opted_out(conn, {r.member_pk for r in rows})
            fresh: dict[tuple[Any, ...], NewOrder] = {}
            values: list[dict[str, Any]] = []

            def judge(r: NewOrder, old: StoredOrder) -> None:
                if r.same_as(old):
                    result.duplicate += 1
                else:
                    result.conflicts.append((r, old))

            for r in rows:
                old = stored.get(r.order_id)
                if old is not None:
                    judge(r, old)
                    continue
                if r.member_pk in opted:
                    result.opted_out += 1
                    continue
                fresh[(r.order_id,)] = r
                values.append({"order_id": r.order_id, "member_pk": r.member_pk, "ts": r.ts,
                               "amount": round(r.amount, 2), "category": r.category,
                               "coupon_used": r.coupon_used, "origin": r.origin})
            landed = _insert_new(conn, ORDER, values, ("order_id",))
            late = [r for key, r in fresh.items() if key not in landed]
            if late:
                # Stored by another process since the check above: now committed and visible
                # (the insert waited for it), so judged like any stored order.
                again = self._stored_orders(conn, [r.order_id for r in late])
                for r in late:
                    old = again.get(_stored_form(conn, r.order_id))
                    if old is None:  # erased again meanwhile (siyu forget): nothing to judge
                        result.duplicate += 1
                    else:
                        judge(r, old)
            result.touched_members = {r.member_pk for key, r in fresh.items() if key in landed}
            result.new = len(landed)
            _mark_stale(conn, result.touched_members)
        return result

    def write_events(self, rows: Sequence[NewContentEvent]) -> WriteResult:
        """Insert new content events in one transaction; known (member, event id) are
        duplicates, also when another process stores them while this runs."""
        result = WriteResult()
        with writing(self.engine) as conn:
            keys = [r.key for r in rows]
            have: set[tuple[int, str]] = set()
            for part in chunks(keys):
                q = select(EVENT.c.member_pk, EVENT.c.event_id).where(
                    tuple_(EVENT.c.member_pk, EVENT.c.event_id).in_(part))
                have.update((pk, eid) for pk, eid in conn.execute(q))
            opted = _opted_out(conn, {r.member_pk for r in rows})
            values: list[dict[str, Any]] = []
            for r in rows:
                pk, eid = r.key
                if (pk, eid) in have:
                    result.duplicate += 1
                    continue
                if pk in opted:
                    result.opted_out += 1
                    continue
                have.add((pk, eid))
                ev = r.event
                values.append({"member_pk": pk, "event_id": eid, "ts": ev.ts,
                               "content_type": ev.content_type, "action": ev.action,
                               "duration": ev.duration, "origin": r.origin})
            landed = _insert_new(conn, EVENT, values, ("member_pk", "event_id"))
            # Identical fields are the same interaction: whoever stored it first, a duplicate.
            result.duplicate += len(values) - len(landed)
            result.touched_members = {pk for pk, _eid in landed}
            result.new = len(landed)
            _mark_stale(conn, result.touched_members)
        return result

    def write_links(self, rows: Sequence[NewLink]) -> WriteResult:
        """Insert new links in one transaction. The same link again is a duplicate; the same
        external id or phone for another member is a conflict and the stored link stays —
        also when another process links it while this runs."""
        result = WriteResult()
        with writing(self.engine) as conn:
            stored = self._stored_links(conn, [(r.kind, r.value) for r in rows])
            fresh: dict[tuple[Any, ...], NewLink] = {}

            def judge(r: NewLink, old: StoredLink) -> None:
                if old.member_pk == r.member_pk:
                    result.duplicate += 1
                else:
                    result.conflicts.append((r, old))

            for r in rows:
                old = stored.get((r.kind, r.value))
                if old is not None:
                    judge(r, old)
                    continue
                stored[r.kind, r.value] = StoredLink(r.kind, r.value, r.member_pk, r.origin)
                fresh[r.kind, r.value] = r
            values = [{"kind": r.kind, "value": r.value, "member_pk": r.member_pk,
                       "origin": r.origin} for r in fresh.values()]
            landed = _insert_new(conn, LINK, values, ("kind", "value"))
            late = [r for key, r in fresh.items() if key not in landed]
            if late:
                again = self._stored_links(conn, [(r.kind, r.value) for r in late])
                for r in late:
                    old = again.get((r.kind, _stored_form(conn, r.value)))
                    if old is None:  # erased again meanwhile (siyu forget): nothing to judge
                        result.duplicate += 1
                    else:
                        judge(r, old)
            result.new = len(landed)
        return result

    # ---- reading ------------------------------------------------------------------------------
    def orders_for(self, pks: Iterable[int] | None = None, until: datetime | None = None
                   ) -> dict[int, list[OrderRecord]]:
        """Orders grouped by member pk (all members when `pks` is None), oldest first,
        only those at or before `until` when given."""
        cols = (ORDER.c.member_pk, ORDER.c.order_id, ORDER.c.ts, ORDER.c.amount,
                ORDER.c.category, ORDER.c.coupon_used)
        out: dict[int, list[OrderRecord]] = {}
        for pk, oid, ts, amount, category, coupon in self._grouped(ORDER, cols, pks, until):
            out.setdefault(pk, []).append(OrderRecord(oid, ts, float(amount), category,
                                                      bool(coupon)))
        for items in out.values():
            items.sort(key=lambda o: (o.ts, o.order_id))
        return out

    def events_for(self, pks: Iterable[int] | None = None, until: datetime | None = None
                   ) -> dict[int, list[ContentEventRecord]]:
        """Content events grouped by member pk (all when `pks` is None), oldest first."""
        cols = (EVENT.c.member_pk, EVENT.c.ts, EVENT.c.content_type, EVENT.c.action,
                EVENT.c.duration, EVENT.c.event_id)
        out: dict[int, list[tuple[str, ContentEventRecord]]] = {}
        for pk, ts, ctype, action, duration, eid in self._grouped(EVENT, cols, pks, until):
            rec = ContentEventRecord(ts, ctype, action,
                                     None if duration is None else float(duration))
            out.setdefault(pk, []).append((eid, rec))
        return {pk: [rec for _, rec in sorted(items, key=lambda p: (p[1].ts, p[0]))]
                for pk, items in out.items()}

    def _grouped(self, table: Table, cols: tuple[Any, ...], pks: Iterable[int] | None,
                 until: datetime | None) -> list[Any]:
        with self.engine.connect() as conn:
            queries = []
            if pks is None:
                queries.append(select(*cols))
            else:
                queries.extend(select(*cols).where(table.c.member_pk.in_(part))
                               for part in chunks(sorted(set(pks))))
            rows: list[Any] = []
            for q in queries:
                if until is not None:
                    q = q.where(table.c.ts <= until)
                rows.extend(conn.execute(q))
            return rows

    def stored_orders(self, ids: Iterable[str]) -> dict[str, StoredOrder]:
        with self.engine.connect() as conn:
            return self._stored_orders(conn, list(dict.fromkeys(ids)))

    @staticmethod
    def _stored_orders(conn: Connection, ids: Sequence[str]) -> dict[str, StoredOrder]:
        out: dict[str, StoredOrder] = {}
        for part in chunks(list(dict.fromkeys(ids))):
            q = select(ORDER.c.order_id, ORDER.c.member_pk, ORDER.c.ts, ORDER.c.amount,
                       ORDER.c.category, ORDER.c.coupon_used, ORDER.c.origin).where(
                ORDER.c.order_id.in_(part))
            for row in conn.execute(q):
                out[row[0]] = StoredOrder(*row)
        return out

    def stored_links(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredLink]:
        """Stored links by (kind, value), for the keys given."""
        with self.engine.connect() as conn:
            return self._stored_links(conn, list(dict.fromkeys(keys)))

    @staticmethod
    def _stored_links(conn: Connection, keys: Sequence[tuple[str, str]]
                      ) -> dict[tuple[str, str], StoredLink]:
        out: dict[tuple[str, str], StoredLink] = {}
        for part in chunks(keys):
            q = select(LINK.c.kind, LINK.c.value, LINK.c.member_pk, LINK.c.origin).where(
                tuple_(LINK.c.kind, LINK.c.value).in_(part))
            for row in conn.execute(q):
                out[row[0], row[1]] = StoredLink(*row)
        return out

    def links(self) -> list[StoredLink]:
        with self.engine.connect() as conn:
            q = select(LINK.c.kind, LINK.c.value, LINK.c.member_pk, LINK.c.origin).order_by(
                LINK.c.kind, LINK.c.value)
            return [StoredLink(*r) for r in conn.execute(q)]

    def latest_ts(self) -> datetime | None:
        """The newest order or content event, for judging stored tags as of the newest fact."""
        with self.engine.connect() as conn:
            times = [conn.scalar(select(func.max(ORDER.c.ts))),
                     conn.scalar(select(func.max(EVENT.c.ts)))]
        return max((t for t in times if t is not None), default=None)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {name: conn.scalar(select(func.count()).select_from(t)) or 0
                    for name, t in (("orders", ORDER), ("content_events", EVENT),
                                    ("links", LINK))}


def _stored_form(conn: Connection, value: str) -> str:
    """A key as the database gives it back (PostgreSQL replaces NUL: storage.db.pg_text)."""
    return pg_text(value) if conn.dialect.name == "postgresql" else value


def _insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]],
                keys: Sequence[str]) -> set[tuple[Any, ...]]:
    """Insert rows the caller found absent; returns the keys (as given) of those stored.

    SQLite: the caller's check ran under the write lock (storage.db.writing), so every row is
    still absent — a plain executemany. PostgreSQL: another process may have stored some
    since the check (or be about to commit them); ON CONFLICT DO NOTHING waits for it and
    skips those rows instead of failing the batch, and RETURNING names the rows that were
    this writer's. Rows go in key order, so two writers with overlapping rows wait for each
    other in the same order and never deadlock.
    """
    if not rows:
        return set()
    given = [tuple(r[k] for k in keys) for r in rows]
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return set(given)
    order = sorted(range(len(rows)), key=lambda i: given[i])
    stmt = insert_skipping_conflicts(conn, table, keys).returning(*(table.c[k] for k in keys))
    back = {tuple(r) for r in conn.execute(stmt, [rows[i] for i in order])}
    return {g for g in given
            if tuple(pg_text(v) if isinstance(v, str) else v for v in g) in back}


def _opted_out(conn: Connection, pks: set[int]) -> set[int]:
    out: set[int] = set()
    for part in chunks(sorted(pks)):
        out.update(conn.scalars(select(MEMBER.c.id).where(MEMBER.c.id.in_(part),
                                                          MEMBER.c.opted_out.is_(True))))
    return out


def _mark_stale(conn: Connection, pks: set[int]) -> None:
    """Same flag as a message batch sets: the member's derived tags need a rebuild."""
    for part in chunks(sorted(pks)):
        conn.execute(update(MEMBER).where(MEMBER.c.id.in_(part)).values(tags_stale=True))
