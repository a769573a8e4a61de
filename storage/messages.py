"""Stored messages read back: for personas, cards, the trigger loop and the tag rebuild.

On SQLite the tag rebuild's read takes times as stored text and parses them itself
(`_sqlite_time_parser`): SQLAlchemy's DATETIME processing cost more than SQLite's own read.
The writing side of the same text is `_sqlite_time_text`, used by storage/batches.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NamedTuple

from sqlalchemy import (
    DateTime,
    String,
    Text,
    bindparam,
    func,
    literal_column,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection, Engine

from storage import driver
from storage.db import writing
from storage.driver import CHUNK, Query, chunks
from storage.models import CHAT, MESSAGE
from storage.sqla_internals import bind_processor, result_processor

# How segment cards name a private chat (see `chat_labels`).
PRIVATE_CHAT_LABEL = "私聊"


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
    proc = bind_processor(MESSAGE.c.ts.type, conn.dialect)
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
    raw = result_processor(DateTime(), conn.dialect)
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
    if len(pks) > CHUNK:  # a few members (the live bot's cache) never pay for sizing
        size = conn.scalar(select(func.max(literal_column("rowid"))).select_from(MESSAGE))
        owned = 0
        for part in chunks(pks):
            owned += sum(n for _, n in conn.execute(_MessageQ.history_sizes, {"pks": list(part)}))
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
        # The rows of the chunk's pk range only, the table still read in file order (NOT
        # INDEXED): a rebuild in chunks scans once per chunk, and SQLite skips the other
        # members' rows in C instead of handing each to Python
        sql = str(select(*cols).where(MESSAGE.c.member_pk.between(bindparam("lo"),
                                                                  bindparam("hi")))
                  .compile(dialect=conn.dialect))
        sql = sql.replace(f"FROM {MESSAGE.name}", f"FROM {MESSAGE.name} NOT INDEXED", 1)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            add(cursor.execute(sql, (pks[0], pks[-1])), set(pks))
        finally:
            cursor.close()
        for group in out.values():
            group.sort(key=_history_time)
    else:
        # The statement is built once (`_MessageQ.history`) and runs through the driver
        # (`storage/driver.py`): the live bot's one-member reads; times come back as text.
        for part in chunks(pks):
            add(driver.rows(conn, _MessageQ.history, {"pks": list(part)}), None)
    return out


def _history_time(row: HistoryRow) -> datetime:
    return row.ts


class MessageReads:
    """`Store`'s message reads (storage/repo.py), and the retention purge of old text."""

    engine: Engine

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
                               for part in chunks(sorted(set(pks))))
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
            for part in chunks(wanted):
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
            for part in chunks(sorted(set(pks))):
                out.update(conn.execute(_MessageQ.history_sizes, {"pks": list(part)}).all())
        return out

    def messages_by_id(self, ids: Iterable[str],
                       member_pk: int | None = None) -> dict[str, StoredMessage]:
        """Stored messages by platform id. A message is (chat, id), so two chats may share an
        id: a member's evidence quotes pass `member_pk`, which picks her own message."""
        cols = (MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
                MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals)
        out: dict[str, StoredMessage] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(ids))):
                q = select(*cols).where(MESSAGE.c.id.in_(part))
                if member_pk is not None:
                    q = q.where(MESSAGE.c.member_pk == member_pk)
                for row in conn.execute(q):
                    out[row[0]] = StoredMessage(*row)
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

    def chat_labels(self) -> dict[str, str | None]:
        """Chat names as segment cards may show them: a group by its name, a private chat as
        「私聊」. A private chat is named after the member in it, and a card stands for a
        whole segment under a made-up name: its quotes and channels must not name her."""
        with self.engine.connect() as conn:
            return {cid: name if group else PRIVATE_CHAT_LABEL for cid, name, group in
                    conn.execute(select(CHAT.c.id, CHAT.c.name, CHAT.c.is_group))}


class _MessageQ:
    """The tag rebuild's reads, built once (see storage/driver.py)."""

    # SQLite's tag-rebuild read by the member index (see `_sqlite_history`): times as text.
    history = Query(
        select(MESSAGE.c.member_pk, MESSAGE.c.id, type_coerce(MESSAGE.c.ts, String),
               MESSAGE.c.chat_id, MESSAGE.c.type, type_coerce(MESSAGE.c.signals, Text))
        .where(MESSAGE.c.member_pk.in_(bindparam("pks", expanding=True)))
        .order_by(MESSAGE.c.member_pk, MESSAGE.c.ts, literal_column("rowid")))
    history_sizes = (select(MESSAGE.c.member_pk, func.count())
                     .where(MESSAGE.c.member_pk.in_(bindparam("pks", expanding=True)))
                     .group_by(MESSAGE.c.member_pk))
