"""Repositories: the only place that builds queries.

Handlers hand this module plain rows and get plain rows back; they never see a session.
Writes go in batches, one transaction each, through SQLAlchemy Core (`executemany`) rather than
one ORM object per row: an import of a year of group history is hundreds of thousands of rows,
and a batch either lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    DateTime,
    String,
    Table,
    Text,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from persona.kept import KeptTags
from storage import driver
from storage.columns import TAGS, replace_member_tags
from storage.db import _json_dumps, insert_skipping_conflicts, pg_text, writing
from storage.driver import Query
from storage.models import Chat, Identity, Member, Message, Tag, TagClaim

MEMBER: Table = Member.__table__  # type: ignore[assignment]
IDENTITY: Table = Identity.__table__  # type: ignore[assignment]
CHAT: Table = Chat.__table__  # type: ignore[assignment]
MESSAGE: Table = Message.__table__  # type: ignore[assignment]
TAG: Table = Tag.__table__  # type: ignore[assignment]
CLAIM: Table = TagClaim.__table__  # type: ignore[assignment]

# SQLite allows 32766 bound variables; stay far below for IN (...) lists.
_CHUNK = 500
_KNOWN_CHATS_MAX = 100_000
# PostgreSQL advisory lock (transaction-scoped, per database) held while creating members;
# the key next to storage.db.PG_SCHEMA_LOCK.
PG_MEMBER_LOCK = 0x5159_0002


def _chunks(seq: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


class MemberRow(NamedTuple):
    pk: int
    member_id: str
    name: str
    first_seen: datetime | None
    last_active: datetime | None
    opted_out: bool


class StoredMessage(NamedTuple):
    id: str
    member_pk: int
    ts: datetime
    chat_id: str
    type: str
    text: str | None
    signals: dict[str, Any]


class HistoryRow(NamedTuple):
    id: str
    ts: datetime
    chat_id: str
    type: str
    signals: str | dict[str, Any]  # stored JSON text, or already decoded by the driver


class TagRow(NamedTuple):
    code: str
    kind: str
    label: str
    score: float
    evidence: list[str]
    expires_at: datetime | None


@dataclass(slots=True)
class NewMessage:
    id: str
    chat_id: str
    platform: str
    sender: str
    ts: datetime
    type: str
    text: str | None
    signals: dict[str, Any]
    origin: str
    # `signals` already serialised by `signals_json` (the ingest does it once per distinct
    # analysis, not once per message); None: storage serialises it.
    signals_json: str | None = None


def signals_json(signals: dict[str, Any]) -> str:
    """The stored text of a signals document: what the engine's JSON serializer writes."""
    return _json_dumps(signals)


def _utc_text(ts: datetime) -> str:
    """SQLite's stored text of an aware time, as `UTCDateTime` + SQLAlchemy's DATETIME give
    it ("2026-11-20 12:00:00.000000"), at a tenth of their cost per message."""
    if ts.tzinfo is UTC:  # what every source gives: no conversion, just cut the offset off
        return ts.isoformat(" ", "microseconds")[:26]
    if ts.tzinfo is None:
        raise ValueError("naive datetime given to the database; times must be aware")
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_time_text(conn: Connection) -> Callable[[datetime], str]:
    """`_utc_text` when it writes exactly what the column's own processor writes (checked on
    a probe, so a SQLAlchemy that changes its format is followed), else that processor."""
    proc = MESSAGE.c.ts.type._cached_bind_processor(conn.dialect)
    probes = (datetime(1999, 12, 31, 23, 59, 58, 123, tzinfo=timezone(timedelta(hours=8))),
              datetime(2026, 11, 20, 4, 0, tzinfo=UTC))
    return (_utc_text if proc is not None and all(proc(p) == _utc_text(p) for p in probes)
            else proc)


def _parse_utc_text(text: str) -> datetime:
    """The aware time of SQLite's stored text ("2026-11-20 12:00:00.000000", UTC).

    The offset is appended rather than set with `replace(tzinfo=UTC)`, which costs several
    times the parse itself; both give the same `UTC` singleton (checked in
    `_sqlite_time_parser`)."""
    return datetime.fromisoformat(text + "+00:00")


def _sqlite_time_parser(conn: Connection) -> Callable[[str], datetime]:
    """`_parse_utc_text` when it reads stored text exactly as the column's own result
    processors do (checked on probes, as `_sqlite_time_text` checks the writing side), else
    those processors."""
    ts_type = MESSAGE.c.ts.type
    raw = DateTime()._cached_result_processor(conn.dialect, None)
    decorate = ts_type.process_result_value

    def slow(text: str) -> datetime:
        value = raw(text) if raw is not None else text
        return decorate(value, conn.dialect)  # type: ignore[return-value]

    probes = ("1999-12-31 23:59:58.000123", "2026-11-20 04:00:00.000000")
    same = all(slow(p) == _parse_utc_text(p) and slow(p).tzinfo is UTC
               and _parse_utc_text(p).tzinfo is UTC for p in probes)
    return _parse_utc_text if same else slow


# A member-index read costs a random page visit per row; a table scan reads every row in
# file order for about a third of that. Past this share of the table, scanning wins.
_SCAN_SHARE = 0.25


def _sqlite_history(conn: Connection, pks: list[int], until: datetime | None
                    ) -> dict[int, list[HistoryRow]]:
    """`Store.message_history` on SQLite.

    Times come back as stored text and are parsed by `_sqlite_time_parser`: SQLAlchemy's
    DATETIME processing cost more than SQLite's own read. When many members (over 500) own a
    large share of the table (a first import's rebuild: all of it), one table scan in rowid
    order through the driver's cursor replaces a random index visit per row; stable-sorting
    each member's rows by their stored time then gives exactly the member-index order
    (member, time, rowid) that the index path reads.
    """
    out: dict[int, list[HistoryRow]] = {}
    if not pks:
        return out
    parse = _sqlite_time_parser(conn)
    cut = _sqlite_time_text(conn)(until) if until is not None else None
    cols = (MESSAGE.c.member_pk, MESSAGE.c.id, MESSAGE.c.ts, MESSAGE.c.chat_id,
            MESSAGE.c.type, MESSAGE.c.signals)
    scan = False
    if len(pks) > _CHUNK:  # a few members (the live bot's cache) never pay for sizing
        size = conn.scalar(select(func.max(literal_column("rowid"))).select_from(MESSAGE))
        owned = 0
        for part in _chunks(pks):
            owned += sum(n for _, n in conn.execute(_R.history_sizes, {"pks": list(part)}))
        scan = owned >= _SCAN_SHARE * (size or 0)

    def add(rows: Iterable[tuple[Any, ...]], only: set[int] | None) -> None:
        for pk, mid, ts, chat_id, mtype, signals in rows:
            if only is not None and pk not in only:
                continue
            if cut is not None and ts > cut:
                continue
            group = out.get(pk)
            if group is None:
                group = out[pk] = []
            group.append(HistoryRow(mid, parse(ts), chat_id, mtype, signals))

    if scan:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            add(cursor.execute(str(select(*cols).compile(dialect=conn.dialect))), set(pks))
        finally:
            cursor.close()
        for group in out.values():
            group.sort(key=_history_time)
    else:
        # The statement is built once (`_R.history`) and runs through the driver
        # (`storage/driver.py`): the live bot's one-member reads; times come back as text.
        for part in _chunks(pks):
            add(driver.rows(conn, _R.history, {"pks": list(part)}), None)
    return out


def _history_time(row: HistoryRow) -> datetime:
    return row.ts


class Encoded(str):
    """A value already in the form SQLite stores (datetime text, JSON text): `_executemany`
    passes it through instead of running the column's bind processor on it again."""

    __slots__ = ()


@dataclass(slots=True)
class Batch:
    """What one ingest transaction writes."""

    chats: dict[str, tuple[str | None, bool, str]] = field(default_factory=dict)
    # (platform, platform_id) -> display name
    people: dict[tuple[str, str], str] = field(default_factory=dict)
    messages: list[NewMessage] = field(default_factory=list)


@dataclass(slots=True)
class BatchResult:
    new: int = 0
    duplicate: int = 0
    opted_out: int = 0
    new_members: int = 0
    touched_members: set[int] = field(default_factory=set)


def _find_identities(conn: Connection, keys: Sequence[tuple[str, str]],
                     pks: dict[tuple[str, str], int]) -> None:
    # On PostgreSQL an id with a NUL comes back as stored (storage.db.pg_text): map it to the
    # key that was asked for, or the member would be created a second time.
    asked = ({(pg_text(p), pg_text(i)): (p, i) for p, i in keys}
             if conn.dialect.name == "postgresql" else {})
    for part in _chunks(keys):
        for platform, pid, pk in driver.rows(conn, _W.identities, {"keys": list(part)}):
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
    for part in _chunks(sorted({pid for _, pid in missing})):
        taken.update(r[0] for r in driver.rows(conn, _W.member_ids, {"ids": list(part)}))
    # Compare ids as the server stores them (storage.db.pg_text), as SQL would have.
    stored = pg_text if conn.dialect.name == "postgresql" else str
    member_ids: list[str] = []
    for platform, pid in missing:
        member_id = f"{platform}:{pid}" if stored(pid) in taken else pid
        taken.add(stored(member_id))
        member_ids.append(member_id)
    _executemany(conn, _W.insert_member, [
        {"member_id": mid, "name": people[key] or key[1], "opted_out": False,
         "tags_stale": False}
        for mid, key in zip(member_ids, missing, strict=True)])
    by_member_id: dict[str, int] = {}
    for part in _chunks(member_ids):
        by_member_id.update(driver.rows(conn, _W.member_pks, {"ids": list(part)}))
    created: set[int] = set()
    identities = []
    for mid, (platform, pid) in zip(member_ids, missing, strict=True):
        pk = pks[platform, pid] = by_member_id[stored(mid)]
        created.add(pk)
        identities.append({"member_pk": pk, "platform": platform, "platform_id": pid})
    _executemany(conn, _W.insert_identity, identities)
    return pks, created


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Chats known to be stored (chats are never deleted): a live bot's batch of one
        # message then skips the chat lookup. Filled only after a commit.
        self._known_chats: set[str] = set()

    def compile_statements(self) -> int:
        """Compile the hot statements of every storage module imported so far (a live bot's
        warm-up: see `storage/driver.py: compile_all`)."""
        return driver.compile_all(self.engine)

    # ---- writing -------------------------------------------------------------------------
    def write_batch(self, batch: Batch) -> BatchResult:
        """Write chats, members and new messages in one transaction; duplicates are skipped.

        Opted-out members' messages are dropped here, before anything is stored.
        """
        result = BatchResult()
        with writing(self.engine) as conn:
            self._ensure_chats(conn, {cid: chat for cid, chat in batch.chats.items()
                                      if cid not in self._known_chats})
            pks, created = ensure_members(conn, batch.people)
            result.new_members = len(created)
            opted = self._opted_out(conn, set(pks.values()))

            # Dedupe inside the batch first (an export can repeat a message), then against the DB.
            unique: dict[str, NewMessage] = {}
            for m in batch.messages:
                if m.id in unique:
                    result.duplicate += 1
                else:
                    unique[m.id] = m
            existing = self._existing_message_ids(conn, list(unique))
            fresh: list[NewMessage] = []
            member_pks: list[int] = []
            for m in unique.values():
                if m.id in existing:
                    result.duplicate += 1
                    continue
                pk = pks[m.platform, m.sender]
                if pk in opted:
                    result.opted_out += 1
                    continue
                fresh.append(m)
                member_pks.append(pk)
            if conn.dialect.name == "sqlite":
                # Each time becomes its stored text once, here, and that text serves the
                # insert and the member spans (fixed-width UTC text sorts as time).
                stamps = _insert_sqlite_messages(conn, fresh, member_pks)
                stored_pks = member_pks
            else:
                rows = [{"id": m.id, "chat_id": m.chat_id, "member_pk": pk, "ts": m.ts,
                         "type": m.type, "text": m.text, "signals": m.signals,
                         "origin": m.origin} for m, pk in zip(fresh, member_pks, strict=True)]
                stored = _insert_new(conn, MESSAGE, rows, "id") if rows else rows
                stored_pks = [r["member_pk"] for r in stored]
                stamps = [r["ts"] for r in stored]
            # Rows another writer stored since the check above are duplicates, not new.
            result.duplicate += len(fresh) - len(stamps)
            spans: dict[int, list[Any]] = {}
            for pk, ts in zip(stored_pks, stamps, strict=True):
                span = spans.get(pk)
                if span is None:
                    spans[pk] = [ts, ts]
                elif ts < span[0]:
                    span[0] = ts
                elif ts > span[1]:
                    span[1] = ts
            result.new = len(stamps)
            self._extend_spans(conn, spans)
            result.touched_members = set(spans) | created
            # On SQLite the span update has already marked the members with new messages.
            unmarked = (created - set(spans) if conn.dialect.name == "sqlite"
                        else result.touched_members)
            for part in _chunks(sorted(unmarked)):
                conn.execute(_W.mark_stale, {"pks": list(part)})
        if len(self._known_chats) > _KNOWN_CHATS_MAX:
            self._known_chats.clear()
        self._known_chats.update(batch.chats)
        return result

    def _ensure_chats(self, conn: Connection,
                      chats: dict[str, tuple[str | None, bool, str]]) -> None:
        if not chats:
            return
        ids = list(chats)
        have: set[str] = set()
        for part in _chunks(ids):
            have.update(r[0] for r in driver.rows(conn, _W.chats, {"ids": list(part)}))
        rows = [{"id": cid, "name": chats[cid][0], "is_group": chats[cid][1],
                 "platform": chats[cid][2]} for cid in ids if cid not in have]
        if rows:
            _insert_new(conn, CHAT, rows, "id")

    def _opted_out(self, conn: Connection, pks: set[int]) -> set[int]:
        if not pks:
            return set()
        out: set[int] = set()
        for part in _chunks(sorted(pks)):
            out.update(r[0] for r in driver.rows(conn, _W.opted_out, {"pks": list(part)}))
        return out

    def _existing_message_ids(self, conn: Connection, ids: list[str]) -> set[str]:
        if conn.dialect.name == "sqlite" and len(ids) > _CHUNK and all(
                i.isascii() and i.isprintable() for i in ids):
            # One statement for a whole bulk batch: the ids as one JSON array that SQLite
            # unpacks itself (json_each), instead of 40 IN lists of 500 bound parameters
            # that SQLAlchemy expands one by one. Only for plain ASCII ids (platform ids and
            # our "h:" hashes), whose JSON text SQLite reads back exactly.
            return set(conn.scalars(_W.message_ids_json, {"ids": _json_dumps(ids)}))
        found: set[str] = set()
        for part in _chunks(ids):
            found.update(r[0] for r in driver.rows(conn, _W.message_ids, {"ids": list(part)}))
        return found

    def _extend_spans(self, conn: Connection, spans: dict[int, list[Any]]) -> None:
        """Widen members' first/last seen to cover new messages' times: datetimes, or on
        SQLite their stored text (see write_batch)."""
        if not spans:
            return
        if conn.dialect.name == "sqlite":
            # One statement per member, compared in SQL: no read back of every touched
            # member's span per batch. Stored times are fixed-width UTC text, so text order
            # is time order. (Writers are serialised: nothing can move a span in between.)
            _executemany(conn, _W.widen_spans, [{"pk": pk, "lo": Encoded(lo_), "hi": Encoded(hi_)}
                                                for pk, (lo_, hi_) in sorted(spans.items())])
            return
        current: dict[int, tuple[datetime | None, datetime | None]] = {}
        for part in _chunks(sorted(spans)):
            # Read-modify-write: on a server another batch could move the same member's span
            # between this read and the update below; the row lock (FOR NO KEY UPDATE, taken
            # in pk order so writers never deadlock; ignored by SQLite, whose writers are
            # serialised anyway) makes it wait instead of being overwritten.
            q = select(MEMBER.c.id, MEMBER.c.first_seen, MEMBER.c.last_active).where(
                MEMBER.c.id.in_(part)).order_by(MEMBER.c.id).with_for_update(key_share=True)
            for pk, first, last in conn.execute(q):
                current[pk] = (first, last)
        updates = []
        for pk, (lo, hi) in sorted(spans.items()):
            first, last = current.get(pk, (None, None))
            new_first = min(lo, first) if first else lo
            new_last = max(hi, last) if last else hi
            # A back-fill of old history leaves most spans as they were: skip those rows.
            if (new_first, new_last) != (first, last):
                updates.append({"pk": pk, "first": new_first, "last": new_last})
        if updates:
            _executemany(conn, update(MEMBER).where(MEMBER.c.id == bindparam("pk"))
                         .values(first_seen=bindparam("first"), last_active=bindparam("last")),
                         updates)

    def replace_derived_tags(self, tags: dict[int, list[TagRow]], computed_at: datetime,
                             kept: Mapping[int, KeptTags] | None = None) -> None:
        """Swap the derived tags of these members for freshly computed ones, atomically.

        Drops the members' claims (see `stale_members`) in the same transaction; their
        `tags_stale` flags are left alone, because a flag set now was set by a writer after
        the data these tags were computed from had been read. The members' rows of
        `member_tags` (segmentation's packed copy of these tags) are replaced by `kept` in
        the same transaction too, so a packed row always matches the tags beside it.
        """
        if not tags:
            return
        with writing(self.engine) as conn:
            pks = sorted(tags)
            _lock_members(conn, pks)
            replace_member_tags(conn, pks, kept or {})
            for part in _chunks(pks):
                conn.execute(delete(TAG).where(TAG.c.member_pk.in_(part),
                                               TAG.c.source == "derived"))
            rows = [{"member_pk": pk, "code": t.code, "kind": t.kind, "label": t.label,
                     "score": t.score, "evidence": t.evidence, "expires_at": t.expires_at,
                     "source": "derived", "computed_at": computed_at}
                    for pk in pks for t in tags[pk]]
            if rows:
                _executemany(conn, _W.insert_tag, rows)
            for part in _chunks(pks):
                conn.execute(delete(CLAIM).where(CLAIM.c.member_pk.in_(part)))

    def stale_members(self) -> list[int]:
        """Claim every member whose derived tags need a rebuild; their pks in order.

        Clearing the flag only after the rebuild (as this once did) lost updates: a batch
        stored while the rebuild was reading set a flag that was already set, and the rebuild
        then cleared it although it had never seen that batch. So the flags are consumed here,
        up front, into `tag_claim` rows in one transaction; the caller reads the members'
        data afterwards and `replace_derived_tags` drops the claims. Members claimed by a
        rebuild that died are claimed again (returned too), so nothing is ever lost.
        """
        with writing(self.engine) as conn:
            waiting = or_(MEMBER.c.tags_stale.is_(True),
                          MEMBER.c.id.in_(select(CLAIM.c.member_pk)))
            pks = list(conn.scalars(select(MEMBER.c.id).where(waiting).order_by(MEMBER.c.id)))
            if not pks:
                return pks
            _lock_members(conn, pks)
            # Another rebuild may hold some of these claims already: keep one row each.
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            claim = dialect.insert(CLAIM).on_conflict_do_nothing(index_elements=["member_pk"])
            for part in _chunks(pks):
                conn.execute(claim, [{"member_pk": pk} for pk in part])
                conn.execute(update(MEMBER).where(MEMBER.c.id.in_(part),
                                                  MEMBER.c.tags_stale.is_(True))
                             .values(tags_stale=False))
            return pks

    # ---- reading -------------------------------------------------------------------------
    def members(self, pks: Iterable[int] | None = None) -> list[MemberRow]:
        with self.engine.connect() as conn:
            if pks is None:
                return [MemberRow(*r) for r in conn.execute(_R.all_members)]
            out: list[MemberRow] = []
            for part in _chunks(sorted(set(pks))):
                out.extend(MemberRow(*r) for r in driver.rows(conn, _R.members,
                                                              {"pks": list(part)}))
            return out

    def find_members(self, query: str) -> list[MemberRow]:
        """Resolve what an operator typed: member id, any platform id, or a name."""
        base = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                      MEMBER.c.last_active, MEMBER.c.opted_out)
        with self.engine.connect() as conn:
            exact = base.where(or_(
                MEMBER.c.member_id == query,
                MEMBER.c.id.in_(select(IDENTITY.c.member_pk)
                                .where(IDENTITY.c.platform_id == query))))
            rows = [MemberRow(*r) for r in conn.execute(exact)]
            if not rows:
                rows = [MemberRow(*r) for r in conn.execute(base.where(MEMBER.c.name == query))]
            if not rows:
                # icontains, not contains: SQLite's LIKE ignores ASCII case and PostgreSQL's
                # does not, so "lily" found "Lily" only on SQLite. lower() … LIKE on SQLite and
                # ILIKE on PostgreSQL give both the same answer.
                like = base.where(MEMBER.c.name.icontains(query, autoescape=True))
                rows = [MemberRow(*r) for r in conn.execute(like.order_by(MEMBER.c.id))]
            return rows

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

    def messages_for(self, pks: Iterable[int] | None = None, until: datetime | None = None
                     ) -> dict[int, list[StoredMessage]]:
        """Stored messages grouped by member (all members when `pks` is None)."""
        cols = (MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
                MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals)
        out: dict[int, list[StoredMessage]] = {}
        with self.engine.connect() as conn:
            queries = []
            if pks is None:
                queries.append(select(*cols))
            else:
                queries.extend(select(*cols).where(MESSAGE.c.member_pk.in_(part))
                               for part in _chunks(sorted(set(pks))))
            for q in queries:
                if until is not None:
                    q = q.where(MESSAGE.c.ts <= until)
                for row in conn.execute(q):
                    msg = StoredMessage(*row)
                    out.setdefault(msg.member_pk, []).append(msg)
        return out

    def message_history(self, pks: Iterable[int], until: datetime | None = None
                        ) -> dict[int, list[HistoryRow]]:
        """What a tag rebuild needs of members' messages, grouped by member: no text, and
        signals as the driver returns them (JSON text on SQLite, decoded on PostgreSQL).

        A rebuild after a first import reads every stored message; most carry one of a few
        thousand distinct signal documents ("{}" above all), so the caller decodes each
        distinct text once instead of this decoding every row. Each member's rows come in
        (time, insertion) order on every path, which `kept_keywords` relies on for ties.
        """
        wanted = sorted(set(pks))
        out: dict[int, list[HistoryRow]] = {}
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                return _sqlite_history(conn, wanted, until)
            cols = (MESSAGE.c.member_pk, MESSAGE.c.id, MESSAGE.c.ts, MESSAGE.c.chat_id,
                    MESSAGE.c.type, type_coerce(MESSAGE.c.signals, Text))
            for part in _chunks(wanted):
                q = select(*cols).where(MESSAGE.c.member_pk.in_(part))
                if until is not None:
                    q = q.where(MESSAGE.c.ts <= until)
                for pk, *rest in conn.execute(q).all():
                    rows = out.get(pk)
                    if rows is None:
                        rows = out[pk] = []
                    rows.append(HistoryRow(*rest))
        return out

    def history_sizes(self, pks: Iterable[int]) -> dict[int, int]:
        """Stored messages per member (members without any left out), from the index alone:
        a tag rebuild sizes its chunks by messages, not members."""
        out: dict[int, int] = {}
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(pks))):
                out.update(conn.execute(_R.history_sizes, {"pks": list(part)}).all())
        return out

    def messages_by_id(self, ids: Iterable[str]) -> dict[str, StoredMessage]:
        cols = (MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
                MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals)
        out: dict[str, StoredMessage] = {}
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(ids))):
                for row in conn.execute(select(*cols).where(MESSAGE.c.id.in_(part))):
                    out[row[0]] = StoredMessage(*row)
        return out

    def tags_for(self, pks: Iterable[int], source: str) -> dict[int, list[TagRow]]:
        out: dict[int, list[TagRow]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(pks))):
                for pk, *rest in driver.rows(conn, _R.tags, {"pks": list(part),
                                                             "source": source}):
                    out.setdefault(pk, []).append(TagRow(*rest))
        return out

    def purge_text_before(self, cutoff: datetime) -> int:
        """Retention: drop the raw text of messages older than `cutoff`; signals stay."""
        with writing(self.engine) as conn:
            res = conn.execute(update(MESSAGE).where(MESSAGE.c.ts < cutoff,
                                                     MESSAGE.c.text.is_not(None))
                               .values(text=None))
            return res.rowcount or 0

    def latest_message_ts(self) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.max(MESSAGE.c.ts)))

    def chat_names(self) -> dict[str, str | None]:
        with self.engine.connect() as conn:
            return {cid: name for cid, name in conn.execute(select(CHAT.c.id, CHAT.c.name))}

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {name: conn.scalar(select(func.count()).select_from(t)) or 0
                    for name, t in (("members", MEMBER), ("messages", MESSAGE), ("chats", CHAT),
                                    ("tags", TAG))}


class _R:
    """Reads the live suggestion hook makes per triggering message, built once (see `_W`)."""

    all_members = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                         MEMBER.c.last_active, MEMBER.c.opted_out).order_by(MEMBER.c.id)
    members = Query(all_members.where(MEMBER.c.id.in_(bindparam("pks", expanding=True))))
    # SQLite's tag-rebuild read by the member index (see `_sqlite_history`): times as text.
    history = Query(
        select(MESSAGE.c.member_pk, MESSAGE.c.id, type_coerce(MESSAGE.c.ts, String),
               MESSAGE.c.chat_id, MESSAGE.c.type, type_coerce(MESSAGE.c.signals, Text))
        .where(MESSAGE.c.member_pk.in_(bindparam("pks", expanding=True)))
        .order_by(MESSAGE.c.member_pk, MESSAGE.c.ts, literal_column("rowid")))
    history_sizes = (select(MESSAGE.c.member_pk, func.count())
                     .where(MESSAGE.c.member_pk.in_(bindparam("pks", expanding=True)))
                     .group_by(MESSAGE.c.member_pk))
    tags = Query(select(TAG.c.member_pk, TAG.c.code, TAG.c.kind, TAG.c.label, TAG.c.score,
                        TAG.c.evidence, TAG.c.expires_at)
                 .where(TAG.c.member_pk.in_(bindparam("pks", expanding=True)),
                        TAG.c.source == bindparam("source"))
                 .order_by(TAG.c.member_pk, TAG.c.score.desc(), TAG.c.code))


def _lock_members(conn: Connection, pks: Sequence[int]) -> None:
    """Lock member rows (in pk order) for the rest of the transaction, on servers that can.

    Two processes rebuilding the same member's tags at once on PostgreSQL would both delete
    the old rows and both insert new ones, and the second insert would break the
    (member, code, source) key. The lock makes the second wait and then replace the first's
    rows. SQLite ignores FOR UPDATE; its writers never overlap.
    """
    for part in _chunks(sorted(pks)):
        conn.execute(select(MEMBER.c.id).where(MEMBER.c.id.in_(part)).order_by(MEMBER.c.id)
                     .with_for_update(key_share=True)).all()


class Prepared:
    """A write statement built once, whose SQLite compilation `_executemany` keeps (per set of
    column keys): the live path writes one message per transaction, and compiling the same
    INSERT/UPDATE again cost more than running it."""

    __slots__ = ("plans", "stmt")

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self.plans: dict[tuple[str, ...], tuple[str, list[str], list[Any], Any]] = {}


def _plan(stmt: Any, conn: Connection, column_keys: tuple[str, ...]
          ) -> tuple[str, list[str], list[Any], Any]:
    """(SQL, parameter keys, their types, how to place them) for SQLite's executemany."""
    # Every bound column must be in the rows: Python-side column defaults are not applied.
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(column_keys))
    binds = [compiled.binds[name] for name in compiled.positiontup]
    # A parameter used twice in the statement is converted once and placed twice.
    keys = list(dict.fromkeys(b.key for b in binds))
    first = {b.key: b for b in reversed(binds)}
    place = (itemgetter(*(keys.index(b.key) for b in binds)) if len(keys) < len(binds)
             else tuple)
    return str(compiled), keys, [first[k].type for k in keys], place


class _W:
    """The ingest's statements, built once (with bound and expanding parameters).

    A live bot writes one message per transaction; building each SELECT/UPDATE construct and
    its cache key, and compiling each executemany statement, cost more than SQLite took to
    run them.
    """

    _lo = bindparam("lo", type_=MEMBER.c.first_seen.type)
    _hi = bindparam("hi", type_=MEMBER.c.last_active.type)
    _first, _last = MEMBER.c.first_seen, MEMBER.c.last_active
    # SQLite only: one statement per member, compared in SQL (see `Store._extend_spans`);
    # the same statement marks the member's tags stale (a live message costs one UPDATE).
    widen_spans = Prepared(update(MEMBER).where(MEMBER.c.id == bindparam("pk")).values(
        first_seen=case((or_(_first.is_(None), _first > _lo), _lo), else_=_first),
        last_active=case((or_(_last.is_(None), _last < _hi), _hi), else_=_last),
        tags_stale=true()))
    insert_member = Prepared(insert(MEMBER))
    insert_identity = Prepared(insert(IDENTITY))
    insert_tag = Prepared(insert(TAG))
    insert_message = Prepared(insert(MESSAGE))
    # The reads a live message's write transaction makes, run through the driver on SQLite
    # (`storage/driver.py`).
    chats = Query(select(CHAT.c.id).where(CHAT.c.id.in_(bindparam("ids", expanding=True))))
    opted_out = Query(select(MEMBER.c.id).where(
        MEMBER.c.id.in_(bindparam("pks", expanding=True)), MEMBER.c.opted_out.is_(True)))
    identities = Query(select(IDENTITY.c.platform, IDENTITY.c.platform_id, IDENTITY.c.member_pk)
                       .where(tuple_(IDENTITY.c.platform, IDENTITY.c.platform_id)
                              .in_(bindparam("keys", expanding=True))))
    member_ids = Query(select(MEMBER.c.member_id)
                       .where(MEMBER.c.member_id.in_(bindparam("ids", expanding=True))))
    member_pks = Query(select(MEMBER.c.member_id, MEMBER.c.id)
                       .where(MEMBER.c.member_id.in_(bindparam("ids", expanding=True))))
    message_ids = Query(select(MESSAGE.c.id)
                        .where(MESSAGE.c.id.in_(bindparam("ids", expanding=True))))
    # SQLite only (see Store._existing_message_ids): `ids` is one JSON array of strings.
    message_ids_json = select(MESSAGE.c.id).where(MESSAGE.c.id.in_(select(
        func.json_each(bindparam("ids", type_=String)).table_valued("value").c.value)))
    mark_stale = (update(MEMBER).where(MEMBER.c.id.in_(bindparam("pks", expanding=True)))
                  .values(tags_stale=True))


def _executemany(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> None:
    """`conn.execute(stmt, rows)`, minus SQLAlchemy's per-row work on SQLite.

    A bulk import runs this for every message and every member span, and Core's executemany
    spends several microseconds per row on parameter dictionaries and type processing. On
    SQLite the statement is compiled once by SQLAlchemy (so this module still never writes SQL
    by hand), each value goes through its column's own bind processor (the stored bytes are
    exactly what Core would store: same datetime text, same compact JSON), and the tuples go
    to the driver's executemany. Identical JSON values (the ingest shares one dict per
    distinct analysis) are serialised once. Other backends take the ordinary path.
    """
    if isinstance(stmt, Prepared):
        prepared, stmt = stmt, stmt.stmt
    else:
        prepared = None
    if conn.dialect.name != "sqlite" or not rows:
        conn.execute(stmt, rows)
        return
    column_keys = tuple(rows[0])
    plan = prepared.plans.get(column_keys) if prepared is not None else None
    if plan is None:
        plan = _plan(stmt, conn, column_keys)
        if prepared is not None:
            prepared.plans[column_keys] = plan
    sql, keys, types, place = plan
    get = itemgetter(*keys)
    one = len(keys) == 1
    convert = [(i, proc) for i, type_ in enumerate(types)
               if (proc := type_._cached_bind_processor(conn.dialect)) is not None]
    memo: dict[int, Any] = {}
    params: list[Any] = []
    for row in rows:
        values = [get(row)] if one else list(get(row))
        for i, proc in convert:
            value = values[i]
            if type(value) is Encoded:
                continue
            if isinstance(value, dict | list):  # alive for the whole loop: ids are unique
                done = memo.get(id(value))
                if done is None:
                    done = memo[id(value)] = proc(value)
                values[i] = done
            else:
                values[i] = proc(value)
        params.append(place(values))
    driver.executemany(conn, sql, params)


def _insert_sqlite_messages(conn: Connection, messages: Sequence[NewMessage],
                            member_pks: Sequence[int]) -> list[str]:
    """Insert new messages on SQLite (the one insert that runs once per chat line); returns
    each one's stored time text, for the member spans.

    Writers are serialised there, so what the duplicate check found absent is still absent:
    a plain executemany stores every row. The statement is compiled by SQLAlchemy once
    (`Prepared`), and the rows go to the driver as tuples built straight from the messages,
    with the same stored bytes Core would write: times through `_sqlite_time_text`, signals
    as the ingest serialised them (`signals_json`, the engine's own JSON serializer) or
    through the column's processor. The other columns are plain text and integers, which
    SQLite's driver takes as they are (checked: their types have no bind processor).
    """
    if not messages:
        return []
    ts_text = _sqlite_time_text(conn)
    stamps = [ts_text(m.ts) for m in messages]
    keys = ("id", "chat_id", "member_pk", "ts", "type", "text", "signals", "origin")
    plan = _W.insert_message.plans.get(keys)
    if plan is None:
        plan = _W.insert_message.plans[keys] = _plan(_W.insert_message.stmt, conn, keys)
    sql, order, types, place = plan
    plain = all(t._cached_bind_processor(conn.dialect) is None
                for key, t in zip(order, types, strict=True) if key not in ("ts", "signals"))
    if not plain or tuple(order) != keys or place is not tuple:
        _executemany(conn, _W.insert_message, [
            {"id": m.id, "chat_id": m.chat_id, "member_pk": pk, "ts": Encoded(ts),
             "type": m.type, "text": m.text, "signals": m.signals, "origin": m.origin}
            for m, pk, ts in zip(messages, member_pks, stamps, strict=True)])
        return stamps
    encode = MESSAGE.c.signals.type._cached_bind_processor(conn.dialect)
    own_json = conn.dialect._json_serializer is _json_dumps
    memo: dict[int, str] = {}

    def signals_text(m: NewMessage) -> str:
        if own_json and m.signals_json is not None:
            return m.signals_json
        done = memo.get(id(m.signals))  # the ingest shares one dict per distinct analysis
        if done is None:
            done = memo[id(m.signals)] = encode(m.signals) if encode else m.signals
        return done

    driver.executemany(conn, sql, [
        (m.id, m.chat_id, pk, ts, m.type, m.text, signals_text(m), m.origin)
        for m, pk, ts in zip(messages, member_pks, stamps, strict=True)])
    return stamps


def _insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]],
                key: str) -> list[dict[str, Any]]:
    """Insert rows whose `key` the caller found absent; returns the rows really stored.

    On SQLite, writers are serialised, so what was absent at the check is still absent: a
    plain executemany, every row stored. On PostgreSQL another process can store the same
    key between the check and the insert; ON CONFLICT DO NOTHING skips those rows instead of
    failing the whole batch, and RETURNING says which rows were this writer's. Rows go in key
    order so two writers inserting overlapping keys wait for each other in the same order and
    never deadlock.
    """
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return rows
    rows = sorted(rows, key=lambda r: r[key])
    stmt = (postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
            .returning(table.c[key]))
    stored = set(conn.scalars(stmt, rows))
    return [r for r in rows if pg_text(r[key]) in stored]  # keys come back as stored


class PrivacyStore:
    """Opt-out, erasure and manual tags: the writes that members and operators ask for."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_member(self, platform: str, platform_id: str, name: str) -> int:
        """The member pk for a platform id, creating the member if this is their first word."""
        with writing(self.engine) as conn:
            pks, _created = ensure_members(conn, {(platform, platform_id): name})
            return pks[platform, platform_id]

    def set_opted_out(self, pk: int, opted_out: bool) -> None:
        with writing(self.engine) as conn:
            conn.execute(update(MEMBER).where(MEMBER.c.id == pk).values(opted_out=opted_out))

    def forget_member(self, pk: int) -> dict[str, int]:
        """Erase a member from every table, in one transaction; returns rows removed per table.

        Every table with a `member_pk` column loses the member's rows (features add tables
        without touching this code), then stored documents without a member column (segment
        runs: assignments, card quotes) are scrubbed of the member's id, name and message ids.
        """
        from sqlmodel import SQLModel

        removed: dict[str, int] = {}
        with writing(self.engine) as conn:
            row = conn.execute(select(MEMBER.c.member_id, MEMBER.c.name)
                               .where(MEMBER.c.id == pk)).first()
            if row is None:
                return removed
            member_id, name = row
            # The ids of everything of theirs (messages, orders, …): stored documents cite
            # them as evidence, so they are scrubbed like the name.
            msg_ids: set[str] = set()
            for table in SQLModel.metadata.sorted_tables:
                keys = [c for c in table.primary_key.columns if c.name != "member_pk"]
                if "member_pk" in table.c and len(keys) == 1:
                    msg_ids.update(str(v) for v in conn.scalars(
                        select(keys[0]).where(table.c.member_pk == pk)) if isinstance(v, str))
            platform_ids = set(conn.scalars(select(IDENTITY.c.platform_id)
                                            .where(IDENTITY.c.member_pk == pk)))
            secrets = {member_id, name, *platform_ids} - {""}
            tables = SQLModel.metadata.sorted_tables
            scrubbed_tags = False
            for table in reversed(tables):
                if table.name == "member":
                    continue
                if "member_pk" in table.c:
                    res = conn.execute(delete(table).where(table.c.member_pk == pk))
                    removed[table.name] = res.rowcount or 0
            res = conn.execute(delete(MEMBER).where(MEMBER.c.id == pk))
            removed["member"] = res.rowcount or 0
            # Other members' words can name them ("@小确幸 收到～"): the name and ids are
            # replaced inside every text column of the rows that remain. A one-character
            # name is left alone: replacing it everywhere would rewrite unrelated words.
            for table in tables:
                for col in table.c:
                    if col.primary_key or not _is_text(col):
                        continue
                    for secret in sorted(s for s in secrets if len(s) >= 2):
                        n = _replace_in(conn, table, col, secret, "某成员")
                        if n:
                            removed[table.name] = removed.get(table.name, 0) + n
                            scrubbed_tags |= table.name == "tag"
            if scrubbed_tags:
                # other members' tag evidence rewritten: their packed copies (counted from
                # the evidence as it was) are dropped, so segmentation reads the tag table
                conn.execute(delete(TAGS).where(TAGS.c.member_pk.in_(
                    select(TAG.c.member_pk).where(or_(
                        TAG.c.label.contains("某成员"),
                        cast(TAG.c.evidence, Text).contains("某成员"))))))
            # Tables without a member column can still name the member: a private chat keyed
            # by their id, an audit line, a card quoting them. Scrub those values too.
            for table in tables:
                if "member_pk" in table.c or table.name in ("member", "meta"):
                    continue
                key = next(iter(table.primary_key.columns))
                cols = [c for c in table.c if c is not key]
                for rec in conn.execute(select(key, *cols)).all():
                    if isinstance(rec[0], str) and rec[0] in secrets:
                        conn.execute(delete(table).where(key == rec[0]))
                        removed[table.name] = removed.get(table.name, 0) + 1
                        continue
                    changed = {c.name: _scrub(rec[i + 1], secrets, msg_ids)
                               for i, c in enumerate(cols)}
                    changed = {k: ("[已删除]" if v is None and rec[i + 1] is not None else v)
                               for i, (k, v) in enumerate(changed.items())}
                    if any(changed[c.name] != rec[i + 1] for i, c in enumerate(cols)):
                        conn.execute(update(table).where(key == rec[0]).values(**changed))
                        removed[table.name] = removed.get(table.name, 0) + 1
        return removed

    def set_manual_tag(self, pk: int, code: str, label: str, add: bool,
                       at: datetime | None = None) -> bool:
        """Add or remove an operator's manual tag; returns whether anything changed."""
        with writing(self.engine) as conn:
            exists = conn.scalar(select(TAG.c.id).where(
                TAG.c.member_pk == pk, TAG.c.code == code, TAG.c.source == "manual"))
            if add and not exists:
                # Two operators tagging the same member from two bot processes on PostgreSQL
                # both see "not there"; the key (member, code, source) lets one insert win
                # and the other learn that nothing changed, instead of failing on UNIQUE.
                stmt = insert_skipping_conflicts(conn, TAG, ["member_pk", "code", "source"]).values(
                    member_pk=pk, code=code, kind="manual", label=label, score=1.0,
                    evidence=[], expires_at=None, source="manual", computed_at=at)
                if conn.dialect.name == "postgresql":
                    # psycopg reports rowcount -1 for the implicit RETURNING of the new id.
                    return conn.execute(stmt.returning(TAG.c.id)).first() is not None
                return bool(conn.execute(stmt).rowcount)
            if not add and exists:
                conn.execute(delete(TAG).where(TAG.c.id == exists))
                return True
            return False


def _is_text(col: Any) -> bool:
    kind = col.type
    # SQLModel's AutoString wraps String in a TypeDecorator; look through it.
    base = getattr(kind, "impl_instance", None) or getattr(kind, "impl", kind)
    return isinstance(kind, String | JSON) or isinstance(base, String | JSON)


def _replace_in(conn: Connection, table: Table, col: Any, secret: str, by: str) -> int:
    """Replace `secret` inside one text or JSON column, in SQL; returns rows changed."""
    target = cast(col, Text) if isinstance(col.type, JSON) else col
    replaced = func.replace(target, secret, by)
    if isinstance(col.type, JSON) and conn.dialect.name != "sqlite":
        # PostgreSQL needs the text cast back to json. SQLite keeps JSON as text already,
        # and there CAST(… AS JSON) means NUMERIC affinity: the document would become 0.
        replaced = cast(replaced, col.type)
    res = conn.execute(update(table).where(target.contains(secret, autoescape=True))
                       .values({col.name: replaced}))
    return res.rowcount or 0


def _scrub(value: Any, secrets: set[str], msg_ids: set[str]) -> Any:
    """A copy of a JSON value with everything pointing at one member removed."""
    if isinstance(value, dict):
        if any(isinstance(v, str) and (v in secrets or v in msg_ids) for k, v in value.items()
               if k in ("id", "member_id", "message_id", "name")):
            return None
        out = {k: _scrub(v, secrets, msg_ids) for k, v in value.items() if k not in secrets}
        return {k: v for k, v in out.items() if v is not None or value.get(k) is None}
    if isinstance(value, list):
        items = [_scrub(v, secrets, msg_ids) for v in value]
        return [v for v, orig in zip(items, value, strict=True) if v is not None or orig is None]
    if isinstance(value, str):
        if value in secrets or value in msg_ids:
            return None
        for secret in secrets:
            if len(secret) >= 2 and secret in value:
                value = value.replace(secret, "某成员")
        return value
    return value
