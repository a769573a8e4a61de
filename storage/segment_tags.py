"""Segmentation's read of the derived tags, column-wise: packed rows where they stand, the tag
table for everyone else.

A member's derived tags are replaced together (one computed_at) and always include the
lifecycle tag, whose row brings computed_at. A member without one counts as having no usable
tags and is rebuilt: slower, never wrong. Members with a packed row that stands
(`member_tags`, written by storage/segment_kept.py) come from it; the rest from the tag table.
Evidence is read only where it is used (intent tags).
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np

from persona.member_table import TAG_KINDS_READ
from storage.segment_kept import _NO_US, _TAG_RECORD, intent_evidence
from storage.segment_rows import Population, Rows, SqlDialect, _KeyNumbers, _taker


class Tags(NamedTuple):
    """The population's usable derived tags as `MemberColumns` takes them, and per member
    row whether its stored tags can stand for as_of."""

    member: np.ndarray  # each tag's member row
    key: np.ndarray  # each tag's number in `keys`
    score: np.ndarray
    expires: np.ndarray  # intent expiry, seconds (NaN: none)
    chat_evidence: np.ndarray
    evidence_len: np.ndarray
    age: np.ndarray  # seconds since the member's tags were computed
    keys: list[tuple[str, ...]]  # (kind, code, label) by key number
    evidence: dict[int, tuple[str, ...]]  # intent tags' evidence, by tag index
    bad: np.ndarray  # per member: stale, missing, or computed after as_of
    computed: np.ndarray  # per member: computed_at, microseconds
    claimed: np.ndarray  # per member: claimed by a running rebuild


def read_tags(rows: Rows, sql: SqlDialect, members: Population, as_of: datetime, at: Any
              ) -> Tags:
    """The derived tags segmentation reads, as of `as_of` (`at`: it as bound in `sql`)."""
    now_us = round(as_of.timestamp() * 1e6)
    claimed = _claimed(rows, members)
    keys = _KeyNumbers({None: -1}, first=0)
    parts: list[tuple[np.ndarray, ...]] = []
    tev: dict[int, tuple[str, ...]] = {}
    packed = np.zeros(members.n, dtype=bool)
    seen = _packed_tags(rows, members.row_of, members.stale | claimed, now_us, keys, parts,
                        tev, packed)
    _tag_table(rows, sql, members, packed, at, keys, parts, tev, seen)
    del keys[None]
    tpk, tkey, tscore, texp, tchat, tlen = _joined(parts)
    # usable stored tags: not stale, present, computed no later than as_of
    life = tkey < 0
    life_rows = members.rows_for(tpk[life]) if len(tpk) else np.zeros(0, np.int64)
    ok = life_rows >= 0
    has_tags = np.zeros(members.n, dtype=bool)
    has_tags[life_rows[ok]] = True
    computed = np.full(members.n, float(now_us))
    comp = texp[life][ok]
    computed[life_rows[ok]] = np.where(comp < 0, float(now_us), comp)
    bad = members.stale | ~has_tags | (computed > now_us)
    texp = texp / 1e6  # intent expiry, microseconds → seconds
    tag_rows = members.rows_for(tpk) if len(tpk) else np.zeros(0, np.int64)
    keep = ((tag_rows >= 0) & ~life & ~bad[tag_rows] if len(tag_rows)
            else np.zeros(0, bool))
    kept = np.flatnonzero(keep)
    tev = _renumbered(tev, keep, kept)
    del keep
    # only the kept rows from here on, the full arrays dropped at once: both at the same
    # time were the read's peak of memory (5.9M tag rows at a million members)
    tag_rows, tkey, tscore, texp, tchat, tlen = (
        a[kept] for a in (tag_rows, tkey, tscore, texp, tchat, tlen))
    del tpk, kept
    tag_age = (now_us - computed[tag_rows]) / 1e6
    tag_keys = [tuple(k.split("\x1f", 2)) for k in keys]
    return Tags(tag_rows, tkey, tscore, texp, tchat, tlen, tag_age, tag_keys, tev, bad,
                computed, claimed)


def _claimed(rows: Rows, members: Population) -> np.ndarray:
    """Per member row: claimed by a running tag rebuild (`tag_claim`)."""
    max_pk = len(members.row_of)
    claimed = np.zeros(members.n, dtype=bool)
    for chunk in rows("SELECT member_pk FROM tag_claim", {}):
        c_pk = np.asarray([c[0] for c in chunk], dtype=np.int64)
        c_row = members.row_of[c_pk[c_pk < max_pk]]
        claimed[c_row[c_row >= 0]] = True
    return claimed


def _tag_table(rows: Rows, dialect: SqlDialect, members: Population, packed: np.ndarray,
               at: Any,
               keys: _KeyNumbers, parts: list[tuple[np.ndarray, ...]],
               tev: dict[int, tuple[str, ...]], seen: int) -> None:
    """Append to `parts` (and `tev`) the tags of every member without a packed row that
    stands, from the tag table, in the shape `_packed_tags` gives them (`seen`: the tag
    rows appended so far)."""
    n, pks = members.n, members.pks
    max_pk = len(members.row_of)
    rest = np.flatnonzero(~packed)
    kinds = ", ".join(f"'{k}'" for k in (*TAG_KINDS_READ, "lifecycle"))
    us, sep = dialect.us, dialect.unit_sep
    sql = ("SELECT t.member_pk, CASE t.kind WHEN 'lifecycle' THEN NULL ELSE "
           f"t.kind || {sep} || t.code || {sep} || t.label END, "
           f"t.score, CASE t.kind WHEN 'intent' THEN coalesce({us('t.expires_at')}, "
           f"{_NO_US}) WHEN 'lifecycle' THEN coalesce({us('t.computed_at')}, -1) "
           f"ELSE {_NO_US} END, "
           "CASE t.kind WHEN 'motivation' THEN (SELECT count(*) FROM "
           f"{dialect.items('t.evidence', 'e')} "
           "WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = e.value "
           "AND o.member_pk = t.member_pk AND o.ts <= :at)) ELSE 0 END, "
           "CASE t.kind WHEN 'motivation' THEN json_array_length(t.evidence) ELSE 0 END, "
           f"CASE t.kind WHEN 'intent' THEN {dialect.doc('t.evidence')} END "
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
        for chunk in rows(tag_sql, {"at": at}):
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


def _joined(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """The parts' columns joined (pk, key, score, expiry, chat evidence, evidence count);
    `parts` is emptied as they are."""
    if not parts:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0), np.zeros(0), empty, empty
    # one column at a time, its chunks freed as it is joined: never all of them twice
    by_col: list[list[np.ndarray]] = [list(c) for c in zip(*parts, strict=True)]
    parts.clear()
    joined: list[np.ndarray] = []
    for j in range(len(by_col)):
        joined.append(np.concatenate(by_col[j]))
        by_col[j] = []
    return tuple(joined)


def _renumbered(tev: dict[int, tuple[str, ...]], keep: np.ndarray, kept: np.ndarray
                ) -> dict[int, tuple[str, ...]]:
    """Intent evidence by tag index among the `kept` rows (it was by index among all)."""
    if not tev:
        return tev
    remap = np.full(len(keep), -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    # ≈ 400k at a million members: renumbered with numpy, not one by one
    old_at = np.fromiter(tev, dtype=np.int64, count=len(tev))
    still = keep[old_at]
    return dict(zip(remap[old_at[still]].tolist(),
                    itertools.compress(tev.values(), still.tolist()), strict=True))


def _packed_tags(rows: Rows, row_of: np.ndarray, untrusted: np.ndarray, now_us: int,
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
    intent_key = np.zeros(1, dtype=bool)  # by key number + 1, as in `_tag_table`
    sql = "SELECT member_pk, computed_us, keys, numbers, intents FROM member_tags"
    for chunk in rows(sql, {}):
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
