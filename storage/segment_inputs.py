"""Segmentation's inputs, read column-wise: SQL aggregates and stored rows straight into arrays.

Segmentation needs a few numbers per member (message counts and first/last times, orders,
content events) and the member's derived tags; building one Python persona per member to get
them cost minutes and gigabytes at a million members. Here the database does the grouping
(counts, min/max, each member's top keywords with a window function) and rows are streamed in chunks
into typed arrays (`persona.member_columns.MemberColumns`), so no per-member object is ever held for
the whole population. What the tag rebuild kept for segmentation (storage/segment_kept.py) is
read instead of counting wherever it still stands; the derived tags are storage/segment_tags.py.

On SQLite and PostgreSQL (what their SQL spells differently: storage/segment_rows.py:
`SqlDialect`); `ColumnReader.supported` says whether the engine qualifies, and callers fall
back to the per-member path elsewhere, which gives the same result, only slower.
"""

from __future__ import annotations

import itertools
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from persona.commerce import CONTENT_TYPES
from persona.member_columns import MemberColumns
from persona.member_table import POPULATION_KEYWORDS
from storage.segment_details import CardDetails
from storage.segment_kept import _NO_US, _SEP, _STAMP, KEPT_KEYWORDS
from storage.segment_rows import (
    _EPOCH,
    Population,
    _KeyNumbers,
    _seconds,
    _seconds_of,
)
from storage.segment_tags import Tags, read_tags


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


class ColumnReader(CardDetails):
    """Segmentation's inputs for a whole population (`read`), and persona cards' text parts
    for a sample (`details`, storage/segment_details.py)."""

    def read(self, as_of: datetime) -> ColumnRead:
        """Every member as of `as_of`, in member-id order."""
        at = self.sql.time(as_of)
        members = self._members()
        orders = self._orders(members, at)
        events = self._events(members, at)
        tags = read_tags(self._rows, self.sql, members, as_of, at)
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
        """Every member, in member-id order: code point order, as Python sorts them (SQLite
        compares UTF-8 bytes, which is that order; PostgreSQL is told to)."""
        ids: list[str] = []
        pk_arr = array("q")
        stale = array("b")
        for chunk in self._rows("SELECT id, member_id, tags_stale FROM member "
                                f"ORDER BY member_id{self.sql.by_code_point}", {}):
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

    def _orders(self, members: Population, at: Any) -> dict[str, Any]:
        """Orders up to as_of, as `MemberColumns`' order columns."""
        om, ots, oamt, ocpn = array("q"), [], array("d"), array("b")
        ocat: list[str | None] = []
        oid: list[str] = []
        sql = (f"SELECT member_pk, order_id, {self.sql.us('ts')}, amount, category, coupon_used "
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

    def _events(self, members: Population, at: Any) -> dict[str, Any]:
        """Content events up to as_of, as `MemberColumns`' event columns."""
        # content types as their index in SQL: no Python per event
        positions = " ".join(f"WHEN '{c}' THEN {j}" for j, c in enumerate(CONTENT_TYPES))
        known_types = ", ".join(f"'{c}'" for c in CONTENT_TYPES)
        em, ets, etype = array("q"), [], array("q")
        sql = (f"SELECT member_pk, {self.sql.us('ts')}, CASE content_type {positions} END "
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

    def _activity(self, members: Population, as_of: datetime, at: Any, tags: Tags
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
        self._count_activity(members, todo, at, self.sql.time(as_of - timedelta(days=30)), act)
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

    def _count_activity(self, members: Population, todo: np.ndarray, at: Any, cut: Any,
                        act: _Activity) -> None:
        """Fill `act` for the rows `todo` from the message table."""
        chat = "type NOT IN ('system', 'recall')"
        us, join = self.sql.us, self.sql.field("signals", "j")
        agg = (f"SELECT member_pk, cnt, {us('lo')}, {us('hi')}, rec, {us('joined')} FROM ("
               f"SELECT member_pk, count(*) FILTER (WHERE {chat}) AS cnt, "
               f"min(ts) FILTER (WHERE {chat}) AS lo, max(ts) FILTER (WHERE {chat}) AS hi, "
               f"count(*) FILTER (WHERE {chat} AND ts > :cut) AS rec, "
               f"min(ts) FILTER (WHERE type = 'system' AND {join} IS NOT NULL) AS joined "
               "FROM message WHERE ts <= :at{} GROUP BY member_pk) AS counted")
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

    def _keywords(self, members: Population, at: Any, act: _Activity) -> dict[str, Any]:
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
