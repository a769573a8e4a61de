"""Bulk, columnar reads for segmentation: SQL aggregates and stored tags straight into arrays.

Segmentation needs a few numbers per member (message counts and first/last times, orders,
content events) and the member's derived tags; building one Python persona per member to get
them cost minutes and gigabytes at a million members. Here SQLite does the grouping (counts,
min/max, each member's top keywords with a window function) and rows are streamed in chunks
into typed arrays (`persona.member_columns.MemberColumns`), so no per-member object is ever held for
the whole population.

SQLite only: the queries use `json_each`, `strftime` and the stored text layout of times.
`ColumnReader.supported` says whether the engine qualifies; callers fall back to the
per-member path elsewhere (PostgreSQL), which gives the same result, only slower.

Times leave SQL as integer microseconds since the epoch and become POSIX seconds with one
division, which is exactly what `datetime.timestamp()` gives, so boundaries (new_days,
declining_days) compare the same as on the per-member path.
"""

from __future__ import annotations

import itertools
import json
import operator
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Column, LargeBinary, Table, Text, delete, insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from persona.kept import KeptActivity, KeptKeywords, KeptTags
from persona.member_columns import MemberColumns
from persona.member_table import POPULATION_KEYWORDS, TAG_KINDS_READ, Detail, Quote, join_channel
from storage.db import writing

_FETCH = 50_000
_SILENT = ("system", "recall")
# Keywords are stored joined by the unit separator: splitting beats parsing JSON a million times.
_SEP = "\x1f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# member_activity.recent: each kept time as this many zero-padded decimal digits, newest
# first, no separator (16 digits of microseconds last until the year 2286)
_STAMP = 16
# "no time" where SQL hands numbers to numpy (far outside any real time)
_NO_US = -(2**62)


class MemberKeywords(SQLModel, table=True):
    """Each member's top keywords, kept between segmentation runs.

    Counting keywords means expanding every message's keyword list (json_each), a minute for
    a million members; a member's top words only change when their messages do. A row holds
    for a run when its (newest chat message time, chat message count) equals the member's as
    of the run: messages are only ever added (erasure removes the member and this row with
    them), so equal counts up to an equal newest time mean the very same messages.

    The tag rebuild after every import (`handlers.personas.refresh_stale_tags`) writes the
    rows of the members it rebuilt from the history it loads anyway, so the first run after
    an import finds them current; a run counts in SQL only what is still missing or stale.
    """

    __tablename__ = "member_keywords"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    through_us: int  # newest chat message counted, microseconds since the epoch
    messages: int  # chat messages counted
    words: str = Field(default="", sa_column=Column(Text, nullable=False))


KEYWORDS: Table = MemberKeywords.__table__  # type: ignore[assignment]
# Words kept per member: what persona cards read (their needs and pain points look at a
# member's top 30); circles use the first POPULATION_KEYWORDS of them.
KEPT_KEYWORDS = 30


def keep_keywords(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Replace these members' kept keywords (dicts of member_pk, through_us, messages, words)."""
    if not rows:
        return
    with writing(engine) as conn:
        conn.execute(delete(KEYWORDS).where(
            KEYWORDS.c.member_pk.in_([r["member_pk"] for r in rows])))
        conn.execute(insert(KEYWORDS), list(rows))


def keep_member_keywords(engine: Engine, kept: Mapping[int, KeptKeywords]) -> None:
    """Store top keywords a tag rebuild counted from the history it had loaded anyway, so the
    first segmentation after an import does not count them again (a minute at 1M members)."""
    keep_keywords(engine, [{"member_pk": pk, "through_us": k.through_us,
                            "messages": k.messages, "words": _SEP.join(k.words)}
                           for pk, k in kept.items()])


class MemberActivity(SQLModel, table=True):
    """Each member's message aggregates, kept by the tag rebuild (`persona.kept.
    KeptActivity`): count, first and last chat message, first join notice, and the newest
    RECENT_KEPT chat message times (microseconds, each 16 zero-padded digits, newest first:
    compared as fixed-width text in one numpy pass) to count "recent" for any later as_of.

    Counting them from the message table is one pass over every message (25 s at a million
    members and 17M messages). A row stands for a run when its member's stored tags do and
    were computed by the same rebuild (`computed_us` equals the tags' computed_at); anything
    else (no row, a crash between the tags and this row, a claimed or stale member) is
    counted in SQL as before. Added in schema version 1 as a new table, so existing databases
    get it on open and fill it as members are rebuilt.
    """

    __tablename__ = "member_activity"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    computed_us: int  # the rebuild's as_of (the tags' computed_at), microseconds
    messages: int
    first_us: int | None = None
    last_us: int | None = None
    joined_us: int | None = None
    recent: str = Field(default="", sa_column=Column(Text, nullable=False))


ACTIVITY: Table = MemberActivity.__table__  # type: ignore[assignment]


def recent_text(stamps: Sequence[int]) -> str:
    """member_activity.recent for these microsecond times (non-negative, newest first)."""
    return "".join(f"{us:0{_STAMP}d}" for us in stamps)


def keep_member_activity(engine: Engine, kept: Mapping[int, KeptActivity]) -> None:
    """Replace these members' activity rows with what a tag rebuild counted."""
    if not kept:
        return
    rows = [{"member_pk": pk, "computed_us": a.computed_us, "messages": a.messages,
             "first_us": a.first_us, "last_us": a.last_us, "joined_us": a.joined_us,
             "recent": recent_text(a.recent_us)}
            for pk, a in kept.items()]
    with writing(engine) as conn:
        conn.execute(delete(ACTIVITY).where(ACTIVITY.c.member_pk.in_(list(kept))))
        conn.execute(insert(ACTIVITY), rows)


class MemberTags(SQLModel, table=True):
    """Each member's derived tags in the shape segmentation reads them (`persona.kept.
    KeptTags`), one row per member, written by `Store.replace_derived_tags` in the very
    transaction that replaces the member's rows in `tag`, so the two never disagree.

    Reading the tag table itself is a scan of every tag row (5.9M at a million members, with
    a JSON expansion and an orders lookup per motivation tag): about 25 s. These rows are
    read in bulk instead, the numbers of all members joined into one buffer numpy reads in
    one step. A row stands for a run when its member is neither stale nor claimed by a
    running rebuild and was computed no later than the run's as_of; every other member (no
    row yet: a database from before this table, or a tag write that kept none) is read from
    the tag table as before. Added in schema version 1 as a new table, so existing databases
    get it on open and fill it as members are rebuilt.

    `keys`: each tag's kind, code and label joined by \\x1f, the tags joined by \\x1e (text,
    so erasure's scrub of other members' text reaches it exactly as it reaches tag.label).
    `numbers`: per tag, in the same order, `_TAG_RECORD` (score, intent expiry in
    microseconds or `_NO_US`, motivation chat-evidence count and evidence count).
    `intents`: the intent tags' evidence, a JSON list of lists in tag order ('' if none).
    """

    __tablename__ = "member_tags"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    computed_us: int  # the tags' computed_at, microseconds since the epoch
    keys: str = Field(default="", sa_column=Column(Text, nullable=False))
    numbers: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    intents: str = Field(default="", sa_column=Column(Text, nullable=False))


TAGS: Table = MemberTags.__table__  # type: ignore[assignment]
_TAG_RECORD = np.dtype([("score", "<f8"), ("expires", "<i8"), ("chat", "<i8"), ("len", "<i8")])


def tags_row(pk: int, kept: KeptTags) -> dict[str, Any]:
    """The member_tags row for one member's kept tags."""
    rec = np.zeros(len(kept.tags), dtype=_TAG_RECORD)
    rec["score"] = [t.score for t in kept.tags]
    rec["expires"] = [_NO_US if t.expires_us is None else t.expires_us for t in kept.tags]
    rec["chat"] = [t.chat_evidence for t in kept.tags]
    rec["len"] = [t.evidence_len for t in kept.tags]
    intents = [list(t.evidence) for t in kept.tags if t.kind == "intent"]
    return {"member_pk": pk, "computed_us": kept.computed_us,
            "keys": "\x1e".join(f"{t.kind}\x1f{t.code}\x1f{t.label}" for t in kept.tags),
            "numbers": rec.tobytes(),
            "intents": json.dumps(intents, ensure_ascii=False) if intents else ""}


def intent_evidence(texts: Iterator[str] | Sequence[str], tags: np.ndarray
                    ) -> list[list[str]] | None:
    """The evidence lists of several members' `member_tags.intents` (each a non-empty JSON
    list of lists, one per intent tag), flattened in order, from one `json.loads` over the
    texts joined into one array: at a million members that was 400k calls, ≈ 2 s.

    `tags` is each text's number of intent tags. None when a text does not hold exactly
    that many lists (never so for rows `tags_row` wrote); the caller then decodes row by
    row, which keeps the per-row behaviour for whatever such a row holds."""
    decoded = json.loads("[" + ",".join(texts) + "]")
    if len(decoded) != len(tags) or not np.array_equal(
            np.fromiter(map(len, decoded), dtype=np.int64, count=len(decoded)), tags):
        return None
    return list(itertools.chain.from_iterable(decoded))


def replace_member_tags(conn: Connection, pks: Sequence[int],
                        kept: Mapping[int, KeptTags]) -> None:
    """Inside a tag write's transaction: drop these members' kept tags and store `kept`.

    Every member whose derived tags are replaced loses its old row, kept anew or not, so a
    row never outlives the tags it was packed from."""
    for start in range(0, len(pks), 500):
        conn.execute(delete(TAGS).where(TAGS.c.member_pk.in_(list(pks[start : start + 500]))))
    rows = [tags_row(pk, k) for pk, k in kept.items()]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(TAGS), rows[start : start + 5000])


def _db_time(ts: datetime) -> str:
    """A bound time in the layout UTCDateTime stores on SQLite (naive UTC, microseconds), so
    text comparison in SQL orders like the times themselves."""
    return ts.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _us(col: str) -> str:
    """SQL for a stored time as integer microseconds since the epoch (NULL stays NULL).

    The whole seconds come from the text without its fraction: strftime rounds a fraction to
    milliseconds first, so "…:13.999767" gave second 14 and the time came out a second late
    (against Python's exact microseconds, which the tag rebuild's kept rows use)."""
    return (f"(CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({col} || '.000000', 21, 6) AS INTEGER))")


def _seconds_of(us: Sequence[int]) -> np.ndarray:
    """Microseconds (`_NO_US` for none) → POSIX seconds (NaN for none)."""
    arr = np.asarray(us, dtype=np.int64)
    return np.where(arr == _NO_US, np.nan, arr / 1e6)


def _seconds(us: Sequence[int | None]) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in us], dtype=np.float64)
    return arr / 1e6


def _taker(picked: list[int], rows: int) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A function taking the items at `picked` (ascending row numbers out of `rows`) from a
    column of a fetched chunk, in C: the column itself when every row is picked."""
    if len(picked) == rows:
        return lambda col: col
    if len(picked) == 1:
        return lambda col: (col[picked[0]],)
    return operator.itemgetter(*picked)


class _KeyNumbers(dict[Any, int]):
    """Text → number in order of first appearance, from `first` on; looking a text up
    numbers it, so a chunk's texts become numbers with `map` and no Python step each."""

    def __init__(self, preset: Mapping[Any, int] | None = None, first: int = -1) -> None:
        super().__init__(preset or {})
        self._base = first - len(self)

    def __missing__(self, key: Any) -> int:
        number = self[key] = len(self) + self._base
        return number


@dataclass(slots=True)
class ColumnRead:
    """What one bulk read gives: the columns, each row's member pk, and the rows whose
    stored tags cannot stand for `as_of` (stale, missing, or computed after it)."""

    columns: MemberColumns
    pks: np.ndarray
    unusable: np.ndarray  # row indices


class ColumnReader:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def supported(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _rows(self, sql: str, params: dict[str, Any]) -> Iterator[list[tuple[Any, ...]]]:
        """Chunks of raw DB-API rows: no Row objects, no type processing per value."""
        with self.engine.connect() as conn:
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cur.execute(sql, params)
                while True:
                    chunk = cur.fetchmany(_FETCH)
                    if not chunk:
                        break
                    yield chunk
            finally:
                cur.close()

    def details(self, pks: Sequence[int], as_of: datetime, chat_names: dict[str, str | None],
                quote_intents: frozenset[str], max_quotes: int, max_keywords: int
                ) -> dict[int, Detail]:
        """The text parts persona cards show, for a bounded set of members (a card sample),
        gathered in SQL rather than by parsing every message: chats by use (ties: the chat
        used first), quotes newest first, top keywords, the channel of the last join notice.
        Same result as handlers.segments.member_detail on the members' messages."""
        at = _db_time(as_of)
        out: dict[int, Detail] = {}
        for start in range(0, len(pks), 500):
            part = [int(pk) for pk in pks[start : start + 500]]
            marks = ", ".join(str(pk) for pk in part)
            where = f"member_pk IN ({marks}) AND ts <= :at"
            chats: dict[int, dict[str, list[int]]] = {}
            sql = (f"SELECT member_pk, chat_id, count(*), {_us('min(ts)')}, min(rowid) "
                   f"FROM message WHERE {where} AND type != 'system' "
                   "GROUP BY member_pk, chat_id")
            for chunk in self._rows(sql, {"at": at}):
                for pk, chat_id, count, first_us, first_row in chunk:
                    name = chat_names.get(chat_id) or chat_id
                    seen = chats.setdefault(pk, {}).get(name)
                    if seen is None:
                        chats[pk][name] = [count, first_us, first_row]
                    else:
                        seen[0] += count
                        seen[1:] = min(seen[1:], [first_us, first_row])
            quotes: dict[int, list[Quote]] = {}
            sql = (f"SELECT member_pk, id, {_us('ts')}, text, chat_id, "
                   "json_extract(signals, '$.n') FROM message "
                   f"WHERE {where} AND text IS NOT NULL AND text != '' "
                   "AND json_extract(signals, '$.n') IS NOT NULL "
                   "ORDER BY member_pk, ts DESC, rowid")
            for chunk in self._rows(sql, {"at": at}):
                for pk, mid, ts_us, text, chat_id, intents in chunk:
                    got = quotes.setdefault(pk, [])
                    if len(got) >= max_quotes:
                        continue
                    hit = tuple(i for i in json.loads(intents) if i in quote_intents)
                    if hit:
                        got.append(Quote(mid, _EPOCH + timedelta(microseconds=ts_us), text, hit,
                                         chat_names.get(chat_id) or chat_id))
            joins: dict[int, tuple[str, str, str]] = {}
            sql = (f"SELECT member_pk, ts, id, json_extract(signals, '$.j') FROM message "
                   f"WHERE {where} AND type = 'system' "
                   "AND json_extract(signals, '$.j') IS NOT NULL")
            for chunk in self._rows(sql, {"at": at}):
                for pk, ts, mid, join in chunk:
                    if pk not in joins or (ts, mid) > joins[pk][:2]:
                        joins[pk] = (ts, mid, join)
            words = self._kept_keywords(part, at, max_keywords)
            for pk in part:
                used = sorted(chats.get(pk, {}).items(),
                              key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2]))
                join = joins.get(pk)
                out[pk] = Detail(chats=tuple(name for name, _ in used),
                                 join_channel=join_channel(json.loads(join[2]) if join else None),
                                 quotes=tuple(quotes.get(pk, ())),
                                 keywords=tuple(words.get(pk, ())))
        return out

    def _kept_keywords(self, pks: Sequence[int], at: str, top: int) -> dict[int, list[str]]:
        """Top keywords from member_keywords, which `read` has just brought up to date for
        the same as_of; counted from the messages when not kept or when more are asked for."""
        marks = ", ".join(str(int(pk)) for pk in pks)
        out: dict[int, list[str]] = {}
        if top <= KEPT_KEYWORDS:
            sql = f"SELECT member_pk, words FROM member_keywords WHERE member_pk IN ({marks})"
            for chunk in self._rows(sql, {}):
                for pk, words in chunk:
                    out[pk] = words.split(_SEP)[:top] if words else []
        missing = [pk for pk in pks if pk not in out]
        if missing:
            out.update(self._count_keywords(missing, at, top))
        return out

    def _count_keywords(self, pks: Sequence[int], at: str, top: int = POPULATION_KEYWORDS
                        ) -> dict[int, list[str]]:
        """Top keywords of these members from their messages up to `at`: most used first,
        ties by the newest use (the order a newest-first scan of the messages meets them)."""
        marks = ", ".join(str(int(pk)) for pk in pks)
        sql = ("SELECT pk, w FROM (SELECT pk, w, row_number() OVER (PARTITION BY pk "
               "ORDER BY c DESC, firstkey DESC) AS r FROM ("
               "SELECT m.member_pk AS pk, j.value AS w, count(*) AS c, "
               "max(printf('%s%012d%04d', m.ts, 999999999999 - m.rowid, 9999 - j.key)) "
               "AS firstkey FROM message m, json_each(m.signals, '$.k') j "
               f"WHERE m.member_pk IN ({marks}) AND m.ts <= :at "
               "GROUP BY m.member_pk, j.value)) WHERE r <= :top ORDER BY pk, r")
        out: dict[int, list[str]] = {}
        for chunk in self._rows(sql, {"at": at, "top": top}):
            for pk, w in chunk:
                out.setdefault(pk, []).append(w)
        return out

    def _keep_keywords(self, rows: list[dict[str, Any]]) -> None:
        keep_keywords(self.engine, rows)

    def _packed_tags(self, row_of: np.ndarray, untrusted: np.ndarray, now_us: int,
                     keys: _KeyNumbers, parts: list[tuple[np.ndarray, ...]],
                     tev: dict[int, tuple[str, ...]], packed: np.ndarray) -> int:
        """Append to `parts` (and `tev`) the tags of every member whose member_tags row
        stands, in the shape the tag-table scan gives them (a lifecycle row bringing
        computed_at, then the tags read, intents only while unexpired); mark those members
        in `packed`. Returns the tag rows appended.

        One row per member and the numbers of a whole chunk decoded by numpy in one step,
        where the tag table is several rows per member, each through SQL expressions."""
        max_pk = len(row_of)
        seen = 0
        intent_key = np.zeros(1, dtype=bool)  # by key number + 1, as in `read`
        sql = "SELECT member_pk, computed_us, keys, numbers, intents FROM member_tags"
        for chunk in self._rows(sql, {}):
            pk, comp, key_text, numbers, intents = zip(*chunk, strict=True)
            pk_a = np.asarray(pk, dtype=np.int64)
            r = np.where(pk_a < max_pk, row_of[np.minimum(pk_a, max_pk - 1)], -1)
            comp_a = np.asarray(comp, dtype=np.int64)
            ok = r >= 0
            ok[ok] = ~untrusted[r[ok]] & (comp_a[ok] <= now_us)
            sel = np.flatnonzero(ok)
            if not len(sel):
                continue
            packed[r[sel]] = True
            picked = sel.tolist()
            # the picked rows' fields without a Python step each (all of them, usually)
            take = _taker(picked, len(pk))
            blobs = take(numbers)
            counts = np.fromiter(map(len, blobs), dtype=np.int64,
                                 count=len(blobs)) // _TAG_RECORD.itemsize
            rec = np.frombuffer(b"".join(blobs), dtype=_TAG_RECORD)
            texts = [t for t in take(key_text) if t]
            kidx = (np.fromiter(map(keys.__getitem__, "\x1e".join(texts).split("\x1e")),
                                dtype=np.int64, count=len(rec))
                    if len(rec) else np.zeros(0, np.int64))
            if len(intent_key) < len(keys):
                intent_key = np.array([k is not None and k.startswith("intent\x1f")
                                       for k in keys], dtype=bool)
            intent = intent_key[kidx + 1]
            exp = rec["expires"]
            # as the tag-table scan: an intent only while it has not expired
            alive = ~intent | ((exp != _NO_US) & (exp > now_us))
            # each tag's position among this chunk's rows: the members' lifecycle rows first
            at = np.cumsum(alive) - 1 + len(picked)
            texts = take(intents)
            with_ev = np.fromiter(map(bool, texts), dtype=bool, count=len(texts))
            if with_ev.any():
                owner = np.repeat(np.arange(len(picked)), counts)
                # the intent tags of members with evidence, in tag order: one list each
                it = np.flatnonzero(intent & with_ev[owner])
                flat = intent_evidence(itertools.compress(texts, with_ev.tolist()),
                                       np.bincount(owner[it], minlength=len(picked))[with_ev])
                if flat is not None:
                    live = alive[it]
                    tev.update(zip((seen + at[it[live]]).tolist(),
                                   map(tuple, itertools.compress(flat, live.tolist())),
                                   strict=True))
                else:  # not one list per intent tag: decoded row by row, as written
                    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
                    for j in np.flatnonzero(with_ev).tolist():
                        lists = iter(json.loads(texts[j]))
                        lo = int(starts[j])
                        for t in np.flatnonzero(intent[lo : lo + counts[j]]).tolist():
                            ev = tuple(next(lists))
                            if alive[lo + t]:
                                tev[seen + int(at[lo + t])] = ev
            texp = np.where(exp == _NO_US, np.nan, exp.astype(np.float64))[alive]
            parts.append((
                np.concatenate((pk_a[sel], np.repeat(pk_a[sel], counts)[alive])),
                np.concatenate((np.full(len(sel), -1, np.int64), kidx[alive])),
                np.concatenate((np.zeros(len(sel)), rec["score"][alive])),
                np.concatenate((comp_a[sel].astype(np.float64), texp)),
                np.concatenate((np.zeros(len(sel), np.int64), rec["chat"][alive])),
                np.concatenate((np.zeros(len(sel), np.int64), rec["len"][alive]))))
            seen += len(sel) + int(alive.sum())
        return seen

    def read(self, as_of: datetime) -> ColumnRead:
        """Every member as of `as_of`, in member-id order."""
        at = _db_time(as_of)
        cut = _db_time(as_of - timedelta(days=30))

        # ---- members, in member-id order (UTF-8 byte order is code point order)
        ids: list[str] = []
        pk_arr = array("q")
        stale = array("b")
        for chunk in self._rows("SELECT id, member_id, tags_stale FROM member "
                                "ORDER BY member_id", {}):
            pk, mid, st = zip(*chunk, strict=True)
            pk_arr.extend(pk)
            ids.extend(mid)
            stale.extend(map(bool, st))
        n = len(ids)
        pks = np.frombuffer(pk_arr, dtype=np.int64).copy() if n else np.zeros(0, np.int64)
        max_pk = int(pks.max()) + 1 if n else 1
        row_of = np.full(max_pk, -1, dtype=np.int64)
        row_of[pks] = np.arange(n)

        def rows_for(pk_list: Sequence[int]) -> np.ndarray:
            return row_of[np.asarray(pk_list, dtype=np.int64)]

        # ---- orders and content events up to as_of
        om, ots, oamt, ocpn = array("q"), [], array("d"), array("b")
        ocat: list[str | None] = []
        oid: list[str] = []
        sql = (f"SELECT member_pk, order_id, {_us('ts')}, amount, category, coupon_used "
               "FROM orders WHERE ts <= :at")
        for chunk in self._rows(sql, {"at": at}):
            pk, order_id, ts, amount, category, coupon = zip(*chunk, strict=True)
            om.extend(pk)
            oid.extend(order_id)
            ots.extend(ts)
            oamt.extend(map(float, amount))
            ocat.extend(category)
            ocpn.extend(1 if c else 0 for c in coupon)
        from persona.commerce import CONTENT_TYPES

        # content types as their index in SQL: no Python per event
        positions = " ".join(f"WHEN '{c}' THEN {j}" for j, c in enumerate(CONTENT_TYPES))
        known_types = ", ".join(f"'{c}'" for c in CONTENT_TYPES)
        em, ets, etype = array("q"), [], array("q")
        sql = (f"SELECT member_pk, {_us('ts')}, CASE content_type {positions} END "
               f"FROM content_event WHERE ts <= :at AND content_type IN ({known_types})")
        for chunk in self._rows(sql, {"at": at}):
            pk, ts, pos = zip(*chunk, strict=True)
            em.extend(pk)
            ets.extend(ts)
            etype.extend(pos)

        # ---- the derived tags segmentation reads, evidence only where it is used, and with
        # them how old each member's stored tags are: a member's derived tags are replaced
        # together (one computed_at) and always include the lifecycle tag, whose row brings
        # computed_at. A member without one counts as having no usable tags and is rebuilt:
        # slower, never wrong. Members with a packed row that stands (member_tags) come from
        # it; the rest from the tag table.
        now_us = round(as_of.timestamp() * 1e6)
        claimed = np.zeros(n, dtype=bool)
        for chunk in self._rows("SELECT member_pk FROM tag_claim", {}):
            c_pk = np.asarray([c[0] for c in chunk], dtype=np.int64)
            c_row = row_of[c_pk[c_pk < max_pk]]
            claimed[c_row[c_row >= 0]] = True
        stale_rows = (np.frombuffer(stale, dtype=np.int8).astype(bool) if n
                      else np.zeros(0, bool))
        keys = _KeyNumbers({None: -1}, first=0)
        parts: list[tuple[np.ndarray, ...]] = []
        tev: dict[int, tuple[str, ...]] = {}
        packed = np.zeros(n, dtype=bool)
        seen = self._packed_tags(row_of, stale_rows | claimed, now_us, keys, parts, tev,
                                 packed)
        rest = np.flatnonzero(~packed)
        kinds = ", ".join(f"'{k}'" for k in (*TAG_KINDS_READ, "lifecycle"))
        sql = ("SELECT t.member_pk, CASE t.kind WHEN 'lifecycle' THEN NULL ELSE "
               "t.kind || char(31) || t.code || char(31) || t.label END, "
               f"t.score, CASE t.kind WHEN 'intent' THEN coalesce({_us('t.expires_at')}, "
               f"{_NO_US}) WHEN 'lifecycle' THEN coalesce({_us('t.computed_at')}, -1) "
               f"ELSE {_NO_US} END, "
               "CASE t.kind WHEN 'motivation' THEN (SELECT count(*) FROM json_each(t.evidence) e "
               "WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = e.value "
               "AND o.member_pk = t.member_pk AND o.ts <= :at)) ELSE 0 END, "
               "CASE t.kind WHEN 'motivation' THEN json_array_length(t.evidence) ELSE 0 END, "
               "CASE t.kind WHEN 'intent' THEN t.evidence END "
               f"FROM tag t WHERE t.source = 'derived' AND t.kind IN ({kinds}) "
               "AND (t.kind != 'intent' OR t.expires_at > :at){}")
        # many left: one pass over the tag table (rows of packed members skipped); a few:
        # through the member_pk index
        if len(rest) > n // 4:
            tag_queries = [sql.format("")]
        elif len(rest):
            tag_queries = [sql.format(" AND t.member_pk IN ({})".format(
                ", ".join(str(int(pk)) for pk in pks[rest[i : i + 500]])))
                for i in range(0, len(rest), 500)]
        else:
            tag_queries = []
        packed_pk = np.zeros(max_pk, dtype=bool)
        packed_pk[pks[packed]] = True
        is_intent = np.zeros(1, dtype=bool)  # by key number + 1 (None, the lifecycle row, first)
        for tag_sql in tag_queries:
            for chunk in self._rows(tag_sql, {"at": at}):
                pk, key, score, exp, chat, n_ev, ev = zip(*chunk, strict=True)
                pk_a = np.asarray(pk, dtype=np.int64)
                take = ~packed_pk[np.minimum(pk_a, max_pk - 1)] | (pk_a >= max_pk)
                # 5.9M rows at a million members: no Python-level step per row but the key
                # lookup
                kidx = np.fromiter(map(keys.__getitem__, key), dtype=np.int64, count=len(key))
                texp_part = np.asarray(exp, dtype=np.int64).astype(np.float64)
                texp_part[texp_part == _NO_US] = np.nan
                if len(is_intent) < len(keys):
                    is_intent = np.array([k is not None and k.startswith("intent\x1f")
                                          for k in keys], dtype=bool)
                at_row = np.cumsum(take) - 1  # each taken row's position in this part
                for t in np.flatnonzero(is_intent[kidx + 1] & take).tolist():
                    tev[seen + int(at_row[t])] = tuple(json.loads(ev[t]))
                parts.append((pk_a[take], kidx[take], np.asarray(score, dtype=np.float64)[take],
                              texp_part[take], np.asarray(chat, dtype=np.int64)[take],
                              np.asarray(n_ev, dtype=np.int64)[take]))
                seen += int(take.sum())
        del keys[None]
        if parts:
            # one column at a time, its chunks freed as it is joined: never all of them twice
            by_col: list[list[np.ndarray]] = [list(c) for c in zip(*parts, strict=True)]
            del parts
            joined: list[np.ndarray] = []
            for j in range(len(by_col)):
                joined.append(np.concatenate(by_col[j]))
                by_col[j] = []
            tpk, tkey, tscore, texp, tchat, tlen = joined
            del joined
        else:
            tpk = tkey = tchat = tlen = np.zeros(0, np.int64)
            tscore = texp = np.zeros(0)
            del parts
        # usable stored tags: not stale, present, computed no later than as_of
        life = tkey < 0
        life_rows = rows_for(tpk[life]) if len(tpk) else np.zeros(0, np.int64)
        ok = life_rows >= 0
        has_tags = np.zeros(n, dtype=bool)
        has_tags[life_rows[ok]] = True
        computed = np.full(n, float(now_us))
        comp = texp[life][ok]
        computed[life_rows[ok]] = np.where(comp < 0, float(now_us), comp)
        bad = stale_rows | ~has_tags | (computed > now_us)
        texp = texp / 1e6  # intent expiry, microseconds → seconds
        tag_rows = rows_for(tpk) if len(tpk) else np.zeros(0, np.int64)
        keep = ((tag_rows >= 0) & ~life & ~bad[tag_rows] if len(tag_rows)
                else np.zeros(0, bool))
        kept = np.flatnonzero(keep)
        remap = np.full(len(tag_rows), -1, dtype=np.int64)
        remap[kept] = np.arange(len(kept))
        if tev:  # ≈ 400k at a million members: renumbered with numpy, not one by one
            old_at = np.fromiter(tev, dtype=np.int64, count=len(tev))
            still = keep[old_at]
            tev = dict(zip(remap[old_at[still]].tolist(),
                           itertools.compress(tev.values(), still.tolist()), strict=True))
        del remap, keep
        # only the kept rows from here on, the full arrays dropped at once: both at the same
        # time were the read's peak of memory (5.9M tag rows at a million members)
        tag_rows, tkey, tscore, texp, tchat, tlen = (
            a[kept] for a in (tag_rows, tkey, tscore, texp, tchat, tlen))
        del tpk, kept
        tag_age = (now_us - computed[tag_rows]) / 1e6
        tag_keys = [tuple(k.split("\x1f", 2)) for k in keys]

        # ---- messages: counts, first/last, last 30 days (system notices and recalls are
        # not chat), the first join notice, which also starts "first seen"; from the rows the
        # tag rebuild kept where they hold, counted in SQL for everyone else
        messages = np.zeros(n, dtype=np.int64)
        hi_us = np.zeros(n, dtype=np.int64)
        recent = np.zeros(n, dtype=np.int64)
        first = np.full(n, np.nan)
        last = np.full(n, np.nan)
        cut_us = (as_of - timedelta(days=30) - _EPOCH) // timedelta(microseconds=1)
        known = np.zeros(n, dtype=bool)
        # fixed-width stamps compare as text exactly as the numbers do
        cut_text = np.bytes_(f"{cut_us:0{_STAMP}d}")
        sql = (f"SELECT member_pk, computed_us, messages, coalesce(first_us, {_NO_US}), "
               f"coalesce(last_us, {_NO_US}), coalesce(joined_us, {_NO_US}), recent "
               "FROM member_activity")
        for chunk in self._rows(sql, {}):
            pk, comp_us, cnt, lo, hi, joined, rec = zip(*chunk, strict=True)
            pk_a = np.asarray(pk, dtype=np.int64)
            r = np.where(pk_a < max_pk, row_of[np.minimum(pk_a, max_pk - 1)], -1)
            ok = r >= 0
            ok[ok] = ~bad[r[ok]] & (computed[r[ok]] == np.asarray(comp_us, np.float64)[ok])
            if not ok.any():
                continue
            r = r[ok]
            known[r] = True
            messages[r] = np.asarray(cnt, dtype=np.int64)[ok]
            hi_arr = np.asarray(hi, dtype=np.int64)
            hi_us[r] = np.where(hi_arr == _NO_US, 0, hi_arr)[ok]
            first[r] = np.fmin(_seconds_of(lo), _seconds_of(joined))[ok]
            last[r] = _seconds_of(hi)[ok]
            # recent: the kept stamps newer than the cut, counted for every row at once
            stamps = np.frombuffer("".join(rec).encode("ascii"), dtype=f"S{_STAMP}")
            owner = np.repeat(np.arange(len(rec)), np.fromiter(
                map(len, rec), dtype=np.int64, count=len(rec)) // _STAMP)
            newer = np.bincount(owner[stamps > cut_text], minlength=len(rec))
            recent[r] = np.minimum(newer[ok], 30)
        # a member claimed by a running rebuild may have messages its old row does not count
        known &= ~claimed
        todo = np.flatnonzero(~known)
        messages[todo], hi_us[todo], recent[todo] = 0, 0, 0
        first[todo], last[todo] = np.nan, np.nan
        chat = "type NOT IN ('system', 'recall')"
        agg = (f"SELECT member_pk, cnt, {_us('lo')}, {_us('hi')}, rec, {_us('joined')} FROM ("
               f"SELECT member_pk, count(*) FILTER (WHERE {chat}) AS cnt, "
               f"min(ts) FILTER (WHERE {chat}) AS lo, max(ts) FILTER (WHERE {chat}) AS hi, "
               f"count(*) FILTER (WHERE {chat} AND ts > :cut) AS rec, "
               "min(ts) FILTER (WHERE type = 'system' AND json_extract(signals, '$.j') "
               "IS NOT NULL) AS joined FROM message WHERE ts <= :at{} GROUP BY member_pk)")
        # many to count: one pass over the table; a few: through the (member_pk, ts) index
        if len(todo) > n // 4:
            queries = [agg.format("")]
        else:
            queries = [agg.format(" AND member_pk IN ({})".format(
                ", ".join(str(int(pk)) for pk in pks[todo[i : i + 500]])))
                for i in range(0, len(todo), 500)]
        for sql in queries:
            for chunk in self._rows(sql, {"at": at, "cut": cut}):
                pk, cnt, lo, hi, rec, joined = zip(*chunk, strict=True)
                r = rows_for(pk)
                # rows already known get the same numbers again from the full pass
                messages[r] = cnt
                hi_us[r] = [0 if h is None else h for h in hi]
                # the first join notice also starts "first seen"
                first[r] = np.fmin(_seconds(lo), _seconds(joined))
                last[r] = _seconds(hi)
                # the persona's frequency tag caps its count at 30; so do the rules reading it
                recent[r] = np.minimum(np.asarray(rec, dtype=np.int64), 30)

        # ---- each member's top keywords: kept rows where they still hold, counted again in
        # SQL (a chunk of members at a time) where not
        vocab = _KeyNumbers(first=0)
        km, kw = array("q"), array("q")
        fresh = np.zeros(n, dtype=bool)
        sql = "SELECT member_pk, through_us, messages, words FROM member_keywords"
        word_number = vocab.__getitem__
        for chunk in self._rows(sql, {}):
            pk, through, count, words = zip(*chunk, strict=True)
            pk_a = np.asarray(pk, dtype=np.int64)
            r = np.where(pk_a < max_pk, row_of[np.minimum(pk_a, max_pk - 1)], -1)
            ok = r >= 0
            ok[ok] = ((np.asarray(through, dtype=np.int64)[ok] == hi_us[r[ok]])
                      & (np.asarray(count, dtype=np.int64)[ok] == messages[r[ok]])
                      & (messages[r[ok]] > 0))
            fresh[r[ok]] = True
            # a chunk's rows split by `map` and flattened, no Python step per row: each
            # row's first POPULATION_KEYWORDS words (a split at most that many times leaves
            # one part more when there are more words, dropped by rank)
            use_all = [i for i in np.flatnonzero(ok).tolist() if words[i]]
            # a few thousand rows at a time: the split words of a whole chunk were 40 MB at
            # once, and the vocabulary's first copies of words kept that memory held
            for lo in range(0, len(use_all), 2048):
                use = use_all[lo : lo + 2048]
                split = list(map(str.split, (words[i] for i in use), itertools.repeat(_SEP),
                                 itertools.repeat(POPULATION_KEYWORDS)))
                got = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
                rank = np.arange(int(got.sum())) - np.repeat(np.cumsum(got) - got, got)
                taken = np.minimum(got, POPULATION_KEYWORDS)
                km.frombytes(np.repeat(pk_a[use], taken).astype(np.int64).tobytes())
                kw.extend(map(word_number, itertools.compress(
                    itertools.chain.from_iterable(split),
                    (rank < POPULATION_KEYWORDS).tolist())))
        todo = np.flatnonzero(~fresh & (messages > 0))
        for start in range(0, len(todo), 500):
            part = todo[start : start + 500]
            found = self._count_keywords(pks[part].tolist(), at, KEPT_KEYWORDS)
            rows_out = []
            for r in part.tolist():
                pk = int(pks[r])
                words_of = found.get(pk, [])
                for w in words_of[:POPULATION_KEYWORDS]:
                    km.append(pk)
                    kw.append(vocab[w])
                rows_out.append({"member_pk": pk, "through_us": int(hi_us[r]),
                                 "messages": int(messages[r]), "words": _SEP.join(words_of)})
            self._keep_keywords(rows_out)
        kw_rows = rows_for(np.frombuffer(km, dtype=np.int64)) if len(km) else np.zeros(
            0, np.int64)
        # rows come grouped by pk in rank order; a stable sort by row keeps the rank order
        korder = np.argsort(kw_rows, kind="stable")

        cols = MemberColumns(
            ids=ids, messages=messages, recent_messages=recent, first_seen=first,
            last_active=last,
            order_member=rows_for(np.frombuffer(om, dtype=np.int64)) if len(om)
            else np.zeros(0, np.int64),
            order_ts=_seconds(ots), order_amount=np.frombuffer(oamt).copy() if len(oamt)
            else np.zeros(0),
            order_coupon=np.frombuffer(ocpn, dtype=np.int8).astype(bool) if len(ocpn)
            else np.zeros(0, bool),
            order_category=ocat, order_id=oid,
            event_member=rows_for(np.frombuffer(em, dtype=np.int64)) if len(em)
            else np.zeros(0, np.int64),
            event_ts=_seconds(ets),
            event_type=np.frombuffer(etype, dtype=np.int64).copy() if len(etype)
            else np.zeros(0, np.int64),
            tag_member=tag_rows, tag_key=tkey, tag_score=tscore,
            tag_age=tag_age, tag_chat_evidence=tchat, tag_evidence_len=tlen,
            tag_expires=texp,
            tag_keys=tag_keys, tag_evidence=tev,  # type: ignore[arg-type]
            kw_member=kw_rows[korder], kw_word=(np.frombuffer(kw, dtype=np.int64)[korder]
                                                if len(kw) else np.zeros(0, np.int64)),
            vocab=list(vocab),
        )
        return ColumnRead(cols, pks, np.flatnonzero(bad))
