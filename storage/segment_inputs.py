"""Segmentation's inputs, read column-wise: SQL aggregates and stored rows straight into arrays.

Segmentation needs a few numbers per member (message counts and first/last times, orders,
content events) and the member's derived tags; building one Python persona per member to get
them cost minutes and gigabytes at a million members. Here SQLite does the grouping (counts,
min/max, each member's top keywords with a window function) and rows are streamed in chunks
into typed arrays (`persona.columns.MemberColumns`), so no per-member object is ever held for
the whole population. What the tag rebuild kept for segmentation (storage/segment_kept.py) is
read instead of counting wherever it still stands; the derived tags are storage/segment_tags.py.

SQLite only: the queries use `json_each`, `strftime` and the stored text layout of times.
`ColumnReader.supported` says whether the engine qualifies; callers fall back to the
per-member path elsewhere (PostgreSQL), which gives the same result, only slower.
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from persona.columns import POPULATION_KEYWORDS, Detail, MemberColumns, join_channel
from persona.commerce import CONTENT_TYPES
from persona.segment import Quote
from storage.segment_kept import _NO_US, _SEP, _STAMP, KEPT_KEYWORDS, keep_keywords
from storage.segment_rows import (
    _EPOCH,
    Population,
    _db_time,
    _KeyNumbers,
    _seconds,
    _seconds_of,
    _us,
)
from storage.segment_tags import Tags, read_tags

_FETCH = 50_000


@dataclass(slots=True)
class ColumnRead:
    """What one bulk read gives: the columns, each row's member pk, and the rows whose
    stored tags cannot stand for `as_of` (stale, missing, or computed after it)."""

    columns: MemberColumns
    pks: np.ndarray
    unusable: np.ndarray  # row indices


@dataclass(slots=True)
class _Activity:
    """Per member row: chat messages, the newest one's time (µs, 0: none), those of the last
    30 days (capped at 30), first seen and last active (POSIX seconds, NaN: none)."""

    messages: np.ndarray
    hi_us: np.ndarray
    recent: np.ndarray
    first: np.ndarray
    last: np.ndarray


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

    def read(self, as_of: datetime) -> ColumnRead:
        """Every member as of `as_of`, in member-id order."""
        at = _db_time(as_of)
        members = self._members()
        orders = self._orders(members, at)
        events = self._events(members, at)
        tags = read_tags(self._rows, members, as_of, at)
        activity = self._activity(members, as_of, at, tags)
        keywords = self._keywords(members, at, activity)
        cols = MemberColumns(
            ids=members.ids, messages=activity.messages, recent_messages=activity.recent,
            first_seen=activity.first, last_active=activity.last, **orders, **events,
            tag_member=tags.member, tag_key=tags.key, tag_score=tags.score,
            tag_age=tags.age, tag_chat_evidence=tags.chat_evidence,
            tag_evidence_len=tags.evidence_len, tag_expires=tags.expires,
            tag_keys=tags.keys, tag_evidence=tags.evidence,  # type: ignore[arg-type]
            **keywords,
        )
        return ColumnRead(cols, members.pks, np.flatnonzero(tags.bad))

    def _members(self) -> Population:
        """Every member, in member-id order (UTF-8 byte order is code point order)."""
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
        stale_rows = (np.frombuffer(stale, dtype=np.int8).astype(bool) if n
                      else np.zeros(0, bool))
        return Population(ids, pks, stale_rows, row_of)

    def _orders(self, members: Population, at: str) -> dict[str, Any]:
        """Orders up to as_of, as `MemberColumns`' order columns."""
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
        return {
            "order_member": members.rows_for(np.frombuffer(om, dtype=np.int64)) if len(om)
            else np.zeros(0, np.int64),
            "order_ts": _seconds(ots),
            "order_amount": np.frombuffer(oamt).copy() if len(oamt) else np.zeros(0),
            "order_coupon": np.frombuffer(ocpn, dtype=np.int8).astype(bool) if len(ocpn)
            else np.zeros(0, bool),
            "order_category": ocat, "order_id": oid}

    def _events(self, members: Population, at: str) -> dict[str, Any]:
        """Content events up to as_of, as `MemberColumns`' event columns."""
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
        return {
            "event_member": members.rows_for(np.frombuffer(em, dtype=np.int64)) if len(em)
            else np.zeros(0, np.int64),
            "event_ts": _seconds(ets),
            "event_type": np.frombuffer(etype, dtype=np.int64).copy() if len(etype)
            else np.zeros(0, np.int64)}

    def _activity(self, members: Population, as_of: datetime, at: str, tags: Tags
                  ) -> _Activity:
        """Messages: counts, first/last, last 30 days (system notices and recalls are not
        chat), the first join notice, which also starts "first seen"; from the rows the tag
        rebuild kept where they hold, counted in SQL for everyone else."""
        n = members.n
        act = _Activity(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
                        np.zeros(n, dtype=np.int64), np.full(n, np.nan), np.full(n, np.nan))
        known = self._kept_activity(members, as_of, tags, act)
        # a member claimed by a running rebuild may have messages its old row does not count
        known &= ~tags.claimed
        todo = np.flatnonzero(~known)
        act.messages[todo], act.hi_us[todo], act.recent[todo] = 0, 0, 0
        act.first[todo], act.last[todo] = np.nan, np.nan
        self._count_activity(members, todo, at, _db_time(as_of - timedelta(days=30)), act)
        return act

    def _kept_activity(self, members: Population, as_of: datetime, tags: Tags,
                       act: _Activity) -> np.ndarray:
        """Fill `act` from the `member_activity` rows that stand (the member's tags are
        usable and were computed by the rebuild that kept the row); those rows, per member."""
        known = np.zeros(members.n, dtype=bool)
        cut_us = (as_of - timedelta(days=30) - _EPOCH) // timedelta(microseconds=1)
        # fixed-width stamps compare as text exactly as the numbers do
        cut_text = np.bytes_(f"{cut_us:0{_STAMP}d}")
        sql = (f"SELECT member_pk, computed_us, messages, coalesce(first_us, {_NO_US}), "
               f"coalesce(last_us, {_NO_US}), coalesce(joined_us, {_NO_US}), recent "
               "FROM member_activity")
        bad, computed = tags.bad, tags.computed
        for chunk in self._rows(sql, {}):
            pk, comp_us, cnt, lo, hi, joined, rec = zip(*chunk, strict=True)
            r = members.rows_in(np.asarray(pk, dtype=np.int64))
            ok = r >= 0
            ok[ok] = ~bad[r[ok]] & (computed[r[ok]] == np.asarray(comp_us, np.float64)[ok])
            if not ok.any():
                continue
            r = r[ok]
            known[r] = True
            act.messages[r] = np.asarray(cnt, dtype=np.int64)[ok]
            hi_arr = np.asarray(hi, dtype=np.int64)
            act.hi_us[r] = np.where(hi_arr == _NO_US, 0, hi_arr)[ok]
            act.first[r] = np.fmin(_seconds_of(lo), _seconds_of(joined))[ok]
            act.last[r] = _seconds_of(hi)[ok]
            # recent: the kept stamps newer than the cut, counted for every row at once
            stamps = np.frombuffer("".join(rec).encode("ascii"), dtype=f"S{_STAMP}")
            owner = np.repeat(np.arange(len(rec)), np.fromiter(
                map(len, rec), dtype=np.int64, count=len(rec)) // _STAMP)
            newer = np.bincount(owner[stamps > cut_text], minlength=len(rec))
            act.recent[r] = np.minimum(newer[ok], 30)
        return known

    def _count_activity(self, members: Population, todo: np.ndarray, at: str, cut: str,
                        act: _Activity) -> None:
        """Fill `act` for the rows `todo` from the message table."""
        chat = "type NOT IN ('system', 'recall')"
        agg = (f"SELECT member_pk, cnt, {_us('lo')}, {_us('hi')}, rec, {_us('joined')} FROM ("
               f"SELECT member_pk, count(*) FILTER (WHERE {chat}) AS cnt, "
               f"min(ts) FILTER (WHERE {chat}) AS lo, max(ts) FILTER (WHERE {chat}) AS hi, "
               f"count(*) FILTER (WHERE {chat} AND ts > :cut) AS rec, "
               "min(ts) FILTER (WHERE type = 'system' AND json_extract(signals, '$.j') "
               "IS NOT NULL) AS joined FROM message WHERE ts <= :at{} GROUP BY member_pk)")
        # many to count: one pass over the table; a few: through the (member_pk, ts) index
        if len(todo) > members.n // 4:
            queries = [agg.format("")]
        else:
            queries = [agg.format(" AND member_pk IN ({})".format(
                ", ".join(str(int(pk)) for pk in members.pks[todo[i : i + 500]])))
                for i in range(0, len(todo), 500)]
        for sql in queries:
            for chunk in self._rows(sql, {"at": at, "cut": cut}):
                pk, cnt, lo, hi, rec, joined = zip(*chunk, strict=True)
                r = members.rows_for(pk)
                # rows already known get the same numbers again from the full pass
                act.messages[r] = cnt
                act.hi_us[r] = [0 if h is None else h for h in hi]
                # the first join notice also starts "first seen"
                act.first[r] = np.fmin(_seconds(lo), _seconds(joined))
                act.last[r] = _seconds(hi)
                # the persona's frequency tag caps its count at 30; so do the rules reading it
                act.recent[r] = np.minimum(np.asarray(rec, dtype=np.int64), 30)

    def _keywords(self, members: Population, at: str, act: _Activity) -> dict[str, Any]:
        """Each member's top keywords, as `MemberColumns`' keyword columns: kept rows where
        they still hold, counted again in SQL (a chunk of members at a time) where not."""
        vocab = _KeyNumbers(first=0)
        km, kw = array("q"), array("q")
        fresh = self._kept_words(members, act, vocab, km, kw)
        todo = np.flatnonzero(~fresh & (act.messages > 0))
        pks = members.pks
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
                rows_out.append({"member_pk": pk, "through_us": int(act.hi_us[r]),
                                 "messages": int(act.messages[r]),
                                 "words": _SEP.join(words_of)})
            self._keep_keywords(rows_out)
        kw_rows = (members.rows_for(np.frombuffer(km, dtype=np.int64)) if len(km)
                   else np.zeros(0, np.int64))
        # rows come grouped by pk in rank order; a stable sort by row keeps the rank order
        korder = np.argsort(kw_rows, kind="stable")
        return {"kw_member": kw_rows[korder],
                "kw_word": (np.frombuffer(kw, dtype=np.int64)[korder] if len(kw)
                            else np.zeros(0, np.int64)),
                "vocab": list(vocab)}

    def _kept_words(self, members: Population, act: _Activity, vocab: _KeyNumbers,
                    km: array[int], kw: array[int]) -> np.ndarray:
        """Append to `km`/`kw` (member pk, word number) the words of every `member_keywords`
        row that still holds (same newest message and count); those rows, per member."""
        fresh = np.zeros(members.n, dtype=bool)
        sql = "SELECT member_pk, through_us, messages, words FROM member_keywords"
        word_number = vocab.__getitem__
        messages, hi_us = act.messages, act.hi_us
        for chunk in self._rows(sql, {}):
            pk, through, count, words = zip(*chunk, strict=True)
            pk_a = np.asarray(pk, dtype=np.int64)
            r = members.rows_in(pk_a)
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
        return fresh

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
            chats = self._chats_by_use(where, at, chat_names)
            quotes = self._quotes(where, at, chat_names, quote_intents, max_quotes)
            joins = self._last_joins(where, at)
            words = self._kept_keywords(part, at, max_keywords)
            for pk in part:
                join = joins.get(pk)
                out[pk] = Detail(chats=chats.get(pk, ()),
                                 join_channel=join_channel(json.loads(join[2]) if join else None),
                                 quotes=tuple(quotes.get(pk, ())),
                                 keywords=tuple(words.get(pk, ())))
        return out

    def _chats_by_use(self, where: str, at: str, chat_names: dict[str, str | None]
                      ) -> dict[int, tuple[str, ...]]:
        """Each member's chats (by name) most used first; ties: the chat used first."""
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
        return {pk: tuple(name for name, _ in sorted(
                    used.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2])))
                for pk, used in chats.items()}

    def _quotes(self, where: str, at: str, chat_names: dict[str, str | None],
                quote_intents: frozenset[str], max_quotes: int) -> dict[int, list[Quote]]:
        """Each member's newest messages with one of `quote_intents`, up to `max_quotes`."""
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
        return quotes

    def _last_joins(self, where: str, at: str) -> dict[int, tuple[str, str, str]]:
        """Each member's last join notice: (stored time, message id, its join signal)."""
        joins: dict[int, tuple[str, str, str]] = {}
        sql = (f"SELECT member_pk, ts, id, json_extract(signals, '$.j') FROM message "
               f"WHERE {where} AND type = 'system' "
               "AND json_extract(signals, '$.j') IS NOT NULL")
        for chunk in self._rows(sql, {"at": at}):
            for pk, ts, mid, join in chunk:
                if pk not in joins or (ts, mid) > joins[pk][:2]:
                    joins[pk] = (ts, mid, join)
        return joins

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
