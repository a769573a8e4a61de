"""One ingest transaction: a batch's chats, members and new messages, written at once.

Handlers hand a `Batch` of plain rows and get counts back; they never see a session. A batch
either lands whole or not at all, and on SQLite its rows go through the driver's
executemany (storage/driver.py: `write_many`) rather than one ORM object per row: an import
of a year of group history is hundreds of thousands of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, bindparam, case, func, insert, or_, select, true, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from storage import driver
from storage.db import _json_dumps, pg_text, writing
from storage.driver import CHUNK, Query, chunks
from storage.members import ensure_members, opted_out, remember_names
from storage.messages import _sqlite_time_text
from storage.models import CHAT, MEMBER, MESSAGE
from storage.sqla_internals import bind_processors, json_serializer
from storage.suppression import suppressed_in

_KNOWN_CHATS_MAX = 100_000


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


@dataclass(slots=True)
class Batch:
    """What one ingest transaction writes."""

    chats: dict[str, tuple[str | None, bool, str]] = field(default_factory=dict)
    # (platform, platform_id) -> display name
    people: dict[tuple[str, str], str] = field(default_factory=dict)
    messages: list[NewMessage] = field(default_factory=list)
    # (platform, platform_id) -> other names (account name, aliases), and export staff roles
    names: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    staff: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """What a message id already stands for: compared with a new message under that id."""

    chat_id: str
    member_pk: int
    ts: datetime
    type: str
    text: str | None
    origin: str | None


@dataclass(frozen=True, slots=True)
class Conflict:
    """A new message whose id already holds a different one, and which fields differ
    ("chat", "sender", "ts", "type", "text")."""

    message: NewMessage
    stored: StoredMessage
    differ: tuple[str, ...]


@dataclass(slots=True)
class BatchResult:
    new: int = 0
    duplicate: int = 0
    opted_out: int = 0
    new_members: int = 0
    touched_members: set[int] = field(default_factory=set)
    # A message whose id is already taken (stored, or earlier in the batch) by a different
    # message: (the new one, what the id holds). Not stored, not counted as a duplicate.
    conflicts: list[Conflict] = field(default_factory=list)


class BatchWriter:
    """`Store.write_batch` (storage/repo.py) and its steps."""

    engine: Engine
    # Chats known to be stored (see `Store.__init__`).
    _known_chats: set[str]

    def write_batch(self, batch: Batch) -> BatchResult:
        """Write chats, members and new messages in one transaction; duplicates are skipped.

        Opted-out members' messages are dropped here, before anything is stored, and so is
        everything of a forgotten person (`storage/suppression.py`): counted as opted out.
        """
        result = BatchResult()
        with writing(self.engine) as conn:
            batch = _without_suppressed(conn, batch, result)
            self._ensure_chats(conn, {cid: chat for cid, chat in batch.chats.items()
                                      if cid not in self._known_chats})
            pks, created = ensure_members(conn, batch.people)
            remember_names(conn, pks, batch.names, batch.staff)
            result.new_members = len(created)
            opted = opted_out(conn, set(pks.values()))

            fresh, member_pks = self._fresh(conn, batch, pks, opted, result)
            if conn.dialect.name == "sqlite":
                # Each time becomes its stored text once, here, and that text serves the
                # insert and the member spans (fixed-width UTC text sorts as time).
                stamps = _insert_sqlite_messages(conn, fresh, member_pks)
                stored_pks = member_pks
            else:
                rows = [{"id": m.id, "chat_id": m.chat_id, "member_pk": pk, "ts": m.ts,
                         "type": m.type, "text": m.text, "signals": m.signals,
                         "origin": m.origin} for m, pk in zip(fresh, member_pks, strict=True)]
                stored = _insert_new(conn, MESSAGE, rows, ("id", "chat_id")) if rows else rows
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
            for part in chunks(sorted(unmarked)):
                conn.execute(_BatchQ.mark_stale, {"pks": list(part)})
        if len(self._known_chats) > _KNOWN_CHATS_MAX:
            self._known_chats.clear()
        self._known_chats.update(batch.chats)
        return result

    def _fresh(self, conn: Connection, batch: Batch, pks: dict[tuple[str, str], int],
               opted: set[int], result: BatchResult) -> tuple[list[NewMessage], list[int]]:
        """The batch's messages to insert, with their member pks; counts the rest in `result`.

        Deduped inside the batch first (an export can repeat a message), then against the
        database, by (chat, id): the same id in another chat is another message. The same
        (chat, id) holding a different message is a conflict, never a duplicate: counting it
        as 重复 would lose it without a word.
        """
        unique: dict[tuple[str, str], NewMessage] = {}
        for m in batch.messages:
            first = unique.get((m.chat_id, m.id))
            if first is None:
                unique[m.chat_id, m.id] = m
                continue
            earlier = _as_stored(first, pks)
            differ = _differ(m, pks[m.platform, m.sender], earlier)
            if differ:
                result.conflicts.append(Conflict(m, earlier, differ))
            else:
                result.duplicate += 1
        existing = self._existing_messages(conn, sorted({m.id for m in unique.values()}),
                                           sorted({m.chat_id for m in unique.values()}))
        fresh: list[NewMessage] = []
        member_pks: list[int] = []
        for key, m in unique.items():
            pk = pks[m.platform, m.sender]
            held = existing.get(key)
            if held is not None:
                differ = _differ(m, pk, held)
                if differ:
                    result.conflicts.append(Conflict(m, held, differ))
                else:
                    result.duplicate += 1
                continue
            if pk in opted:
                result.opted_out += 1
                continue
            fresh.append(m)
            member_pks.append(pk)
        if result.conflicts:  # in the order of the batch, so reports follow the file
            position = {id(m): i for i, m in enumerate(batch.messages)}
            result.conflicts.sort(key=lambda c: position[id(c.message)])
        return fresh, member_pks

    def _ensure_chats(self, conn: Connection,
                      chats: dict[str, tuple[str | None, bool, str]]) -> None:
        if not chats:
            return
        ids = list(chats)
        have: set[str] = set()
        for part in chunks(ids):
            have.update(r[0] for r in driver.rows(conn, _BatchQ.chats, {"ids": list(part)}))
        rows = [{"id": cid, "name": chats[cid][0], "is_group": chats[cid][1],
                 "platform": chats[cid][2]} for cid in ids if cid not in have]
        if rows:
            _insert_new(conn, CHAT, rows, ("id",))

    def _existing_message_ids(self, conn: Connection, ids: list[str]) -> set[str]:
        return {mid for _chat, mid in self._existing_messages(conn, ids)}

    def _existing_messages(self, conn: Connection, ids: list[str],
                           chats: list[str] | None = None
                           ) -> dict[tuple[str, str], StoredMessage]:
        """The stored messages with an id among `ids` (in one of `chats`, when given), by
        (chat, id), with what a conflict check compares.

        The key's index is (id, chat_id): the ids pick the rows, the chats only narrow them,
        so a batch of one chat never reads back the other chats' messages numbered alike.
        """
        ascii_ = all(i.isascii() and i.isprintable() for i in (*ids, *(chats or ())))
        if conn.dialect.name == "sqlite" and len(ids) > CHUNK and ascii_:
            # One statement for a whole bulk batch: the ids as one JSON array that SQLite
            # unpacks itself (json_each), instead of 40 IN lists of 500 bound parameters
            # that SQLAlchemy expands one by one. Only for plain ASCII ids (platform ids and
            # our "h:" hashes), whose JSON text SQLite reads back exactly.
            query = _BatchQ.message_ids_json if chats is None else _BatchQ.chat_message_ids_json
            params = {"ids": _json_dumps(ids)}
            if chats is not None:
                params["chats"] = _json_dumps(chats)
            rows: Any = conn.execute(query, params)
            return {(r[1], r[0]): StoredMessage(*r[1:]) for r in rows}
        found: dict[tuple[str, str], StoredMessage] = {}
        for part in chunks(ids):
            if chats is None:
                rows = driver.rows(conn, _BatchQ.message_ids, {"ids": list(part)})
            else:
                rows = []
                for few in chunks(chats):
                    rows.extend(driver.rows(conn, _BatchQ.chat_message_ids,
                                            {"ids": list(part), "chats": list(few)}))
            for r in rows:
                found[r[1], r[0]] = StoredMessage(*r[1:])
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
            driver.write_many(conn, _BatchQ.widen_spans, [
                {"pk": pk, "lo": driver.Encoded(lo_), "hi": driver.Encoded(hi_)}
                for pk, (lo_, hi_) in sorted(spans.items())])
            return
        current: dict[int, tuple[datetime | None, datetime | None]] = {}
        for part in chunks(sorted(spans)):
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
            conn.execute(update(MEMBER).where(MEMBER.c.id == bindparam("pk"))
                         .values(first_seen=bindparam("first"), last_active=bindparam("last")),
                         updates)


def _as_stored(m: NewMessage, pks: dict[tuple[str, str], int]) -> StoredMessage:
    return StoredMessage(m.chat_id, pks[m.platform, m.sender], m.ts, m.type, m.text, m.origin)


def _differ(m: NewMessage, member_pk: int, stored: StoredMessage) -> tuple[str, ...]:
    """Where `m` differs from the message `stored` already holds under the same (chat, id);
    () when it is the same."""
    if (member_pk == stored.member_pk and m.ts == stored.ts and m.type == stored.type
            and m.text == stored.text):
        return ()
    return tuple(name for name, same in (
        ("sender", member_pk == stored.member_pk), ("ts", m.ts == stored.ts),
        ("type", m.type == stored.type), ("text", m.text == stored.text)) if not same)
def _without_suppressed(conn: Connection, batch: Batch, result: BatchResult) -> Batch:
    """The batch without forgotten people: their messages (counted in `opted_out`), their
    names, and private chats named after them. Returns `batch` itself when nobody is."""
    private = {(platform, cid) for cid, (_name, is_group, platform) in batch.chats.items()
               if not is_group}
    gone = suppressed_in(conn, set(batch.people) | private)
    if not gone:
        return batch
    chats = {cid: chat for cid, chat in batch.chats.items()
             if chat[1] or (chat[2], cid) not in gone}
    kept = [m for m in batch.messages if (m.platform, m.sender) not in gone
            and (m.chat_id in chats or m.chat_id not in batch.chats)]
    result.opted_out += len(batch.messages) - len(kept)
    return Batch(chats=chats, messages=kept,
                 people={key: name for key, name in batch.people.items() if key not in gone})


def _insert_sqlite_messages(conn: Connection, messages: Sequence[NewMessage],
                            member_pks: Sequence[int]) -> list[str]:
    """Insert new messages on SQLite (the one insert that runs once per chat line); returns
    each one's stored time text, for the member spans.

    Writers are serialised there, so what the duplicate check found absent is still absent:
    a plain executemany stores every row. The statement is compiled by SQLAlchemy once
    (`Query.many`), and the rows go to the driver as tuples built straight from the messages,
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
    many = _BatchQ.insert_message.many(conn.dialect, keys)
    procs = dict(zip(many.keys, bind_processors(many.types, conn.dialect), strict=True))
    plain = all(proc is None for key, proc in procs.items() if key not in ("ts", "signals"))
    if not plain or tuple(many.keys) != keys or many.place is not tuple:
        driver.write_many(conn, _BatchQ.insert_message, [
            {"id": m.id, "chat_id": m.chat_id, "member_pk": pk, "ts": driver.Encoded(ts),
             "type": m.type, "text": m.text, "signals": m.signals, "origin": m.origin}
            for m, pk, ts in zip(messages, member_pks, stamps, strict=True)])
        return stamps
    encode = procs["signals"]
    own_json = json_serializer(conn.dialect) is _json_dumps
    memo: dict[int, str] = {}

    def signals_text(m: NewMessage) -> str:
        if own_json and m.signals_json is not None:
            return m.signals_json
        done = memo.get(id(m.signals))  # the ingest shares one dict per distinct analysis
        if done is None:
            done = memo[id(m.signals)] = encode(m.signals) if encode else m.signals
        return done

    driver.executemany(conn, many.sql, [
        (m.id, m.chat_id, pk, ts, m.type, m.text, signals_text(m), m.origin)
        for m, pk, ts in zip(messages, member_pks, stamps, strict=True)])
    return stamps


def _insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]],
                key: tuple[str, ...]) -> list[dict[str, Any]]:
    """Insert rows whose `key` (the table's primary key columns) the caller found absent;
    returns the rows really stored.

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
    rows = sorted(rows, key=lambda r: tuple(r[k] for k in key))
    stmt = (postgresql.insert(table).on_conflict_do_nothing(index_elements=list(key))
            .returning(*(table.c[k] for k in key)))
    stored = set(map(tuple, conn.execute(stmt, rows)))
    # keys come back as stored
    return [r for r in rows if tuple(pg_text(r[k]) for k in key) in stored]


class _BatchQ:
    """The ingest's statements, built once (with bound and expanding parameters).

    A live bot writes one message per transaction; building each SELECT/UPDATE construct and
    its cache key, and compiling each executemany statement, cost more than SQLite took to
    run them.
    """

    _lo = bindparam("lo", type_=MEMBER.c.first_seen.type)
    _hi = bindparam("hi", type_=MEMBER.c.last_active.type)
    _first, _last = MEMBER.c.first_seen, MEMBER.c.last_active
    # SQLite only: one statement per member, compared in SQL (see `BatchWriter._extend_spans`);
    # the same statement marks the member's tags stale (a live message costs one UPDATE).
    widen_spans = Query(update(MEMBER).where(MEMBER.c.id == bindparam("pk")).values(
        first_seen=case((or_(_first.is_(None), _first > _lo), _lo), else_=_first),
        last_active=case((or_(_last.is_(None), _last < _hi), _hi), else_=_last),
        tags_stale=true()))
    insert_message = Query(insert(MESSAGE))
    # The reads a live message's write transaction makes, run through the driver on SQLite
    # (`storage/driver.py`).
    chats = Query(select(CHAT.c.id).where(CHAT.c.id.in_(bindparam("ids", expanding=True))))
    _stored = (MESSAGE.c.id, MESSAGE.c.chat_id, MESSAGE.c.member_pk, MESSAGE.c.ts,
               MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.origin)
    # The stored messages with an id among "ids" (in one of "chats"), with what the
    # conflict check compares.
    message_ids = Query(select(*_stored)
                        .where(MESSAGE.c.id.in_(bindparam("ids", expanding=True))))
    chat_message_ids = Query(select(*_stored).where(
        MESSAGE.c.id.in_(bindparam("ids", expanding=True)),
        MESSAGE.c.chat_id.in_(bindparam("chats", expanding=True))))
    # SQLite only (see `BatchWriter._existing_messages`): `ids` and `chats` are JSON arrays
    # of strings.
    message_ids_json = select(*_stored).where(MESSAGE.c.id.in_(select(
        func.json_each(bindparam("ids", type_=String)).table_valued("value").c.value)))
    chat_message_ids_json = message_ids_json.where(MESSAGE.c.chat_id.in_(select(
        func.json_each(bindparam("chats", type_=String)).table_valued("value").c.value)))
    mark_stale = (update(MEMBER).where(MEMBER.c.id.in_(bindparam("pks", expanding=True)))
                  .values(tags_stale=True))
