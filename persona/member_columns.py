"""Segmentation inputs as columns: flat arrays per fact, no Python object per member.

A million members as `MemberInput` objects (a Persona, its Tags, its orders) cost ~5 KB and
a dozen objects each, and most of a run went to building them and to the garbage collector
walking them. Segmentation only ever needs a handful of numbers per member plus the stored
derived tags, so storage can hand those over as arrays (`storage/segment_inputs.py`), and
persona/tabulate.py turns them into the `MemberTable` every rule reads.

Two producers fill the same `MemberColumns`, so there is one table builder and the columnar
path cannot drift from the per-member one:
- `columns_from_inputs` — from `MemberInput`s (tests, small callers, members whose stored
  tags cannot be used);
- `storage.segment_inputs.ColumnReader` — straight from SQL aggregates and the `tag` table.

Text parts (quotes, chats, the join channel, a member's top-30 keywords) are only read for
the members a persona card samples, through `details`, so they stay bounded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from persona.commerce import CONTENT_TYPES
from persona.member_table import (
    POPULATION_KEYWORDS,
    TAG_KINDS_READ,
    DetailLoader,
    MemberInput,
    no_details,
    recent_messages,
)


def _f64(values: Any = ()) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _i64(values: Any = ()) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


@dataclass(slots=True)
class MemberColumns:
    """Everything segmentation reads, one array per fact, rows in member-id order.

    Times are POSIX seconds (NaN when unknown). Flat fact arrays (`order_*`, `event_*`,
    `tag_*`, `kw_*`) carry the member's row index in their `*_member` column.
    """

    ids: list[str]
    messages: np.ndarray  # int: chat messages up to as_of (system/recall left out)
    recent_messages: np.ndarray  # int: in the last 30 days, capped at 30
    first_seen: np.ndarray  # first message or join notice (NaN when neither)
    last_active: np.ndarray  # last message
    order_member: np.ndarray = field(default_factory=_i64)
    order_ts: np.ndarray = field(default_factory=_f64)
    order_amount: np.ndarray = field(default_factory=_f64)
    order_coupon: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    order_category: list[str | None] = field(default_factory=list)
    order_id: list[str] = field(default_factory=list)
    event_member: np.ndarray = field(default_factory=_i64)
    event_ts: np.ndarray = field(default_factory=_f64)
    event_type: np.ndarray = field(default_factory=_i64)  # index into CONTENT_TYPES
    # stored tags: key index into tag_keys (kind, code, label); score as stored
    tag_member: np.ndarray = field(default_factory=_i64)
    tag_key: np.ndarray = field(default_factory=_i64)
    tag_score: np.ndarray = field(default_factory=_f64)
    tag_age: np.ndarray = field(default_factory=_f64)  # seconds from computed_at to as_of
    tag_chat_evidence: np.ndarray = field(default_factory=_i64)  # evidence ids not orders
    tag_evidence_len: np.ndarray = field(default_factory=_i64)
    tag_expires: np.ndarray = field(default_factory=_f64)
    tag_keys: list[tuple[str, str, str]] = field(default_factory=list)
    # evidence ids of intent tags only (dynamic tags show them), by tag row
    tag_evidence: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # top POPULATION_KEYWORDS words per member, in rank order
    kw_member: np.ndarray = field(default_factory=_i64)
    kw_word: np.ndarray = field(default_factory=_i64)
    vocab: list[str] = field(default_factory=list)
    details: DetailLoader = no_details

    def __len__(self) -> int:
        return len(self.ids)


def columns_from_inputs(members: Sequence[MemberInput]) -> MemberColumns:
    """The per-member inputs as columns (their personas are already as of the run's as_of)."""
    ms = sorted(members, key=lambda m: m.persona.member_id)
    n = len(ms)
    keys: dict[tuple[str, str, str], int] = {}
    vocab: dict[str, int] = {}
    messages = np.zeros(n, dtype=np.int64)
    recent = np.zeros(n, dtype=np.int64)
    first = np.full(n, math.nan)
    last = np.full(n, math.nan)
    om: list[int] = []
    ots: list[float] = []
    oamt: list[float] = []
    ocpn: list[bool] = []
    ocat: list[str | None] = []
    oid: list[str] = []
    em: list[int] = []
    ets: list[float] = []
    etype: list[int] = []
    tm: list[int] = []
    tk: list[int] = []
    tsc: list[float] = []
    tchat: list[int] = []
    tlen: list[int] = []
    texp: list[float] = []
    tev: dict[int, tuple[str, ...]] = {}
    km: list[int] = []
    kw: list[int] = []
    event_pos = {c: j for j, c in enumerate(CONTENT_TYPES)}
    for i, m in enumerate(ms):
        p = m.persona
        order_ids = {o.order_id for o in m.orders}
        for tag in p.tags:
            if tag.kind == "frequency":
                recent[i] = recent_messages(tag)
            if tag.kind not in TAG_KINDS_READ:
                continue
            key = (tag.kind, tag.code, tag.label)
            k = keys.setdefault(key, len(keys))
            if tag.kind == "intent":
                tev[len(tm)] = tuple(tag.evidence)
            tm.append(i)
            tk.append(k)
            tsc.append(tag.score)
            tchat.append(sum(1 for e in tag.evidence if e not in order_ids))
            tlen.append(len(tag.evidence))
            texp.append(tag.expires_at.timestamp() if tag.expires_at else math.nan)
        stats = p.stats
        count = int(stats.get("messages") or 0)
        # a join notice alone is "first seen" (it starts the new stage), as storage reads it
        fs = stats.get("first_seen")
        first[i] = fs.timestamp() if fs else math.nan
        if count:
            messages[i] = count
            la = stats.get("last_active")
            last[i] = la.timestamp() if la else math.nan
        else:
            recent[i] = 0
        for o in m.orders:
            om.append(i)
            ots.append(o.ts.timestamp())
            oamt.append(o.amount)
            ocpn.append(o.coupon_used)
            ocat.append(o.category)
            oid.append(o.order_id)
        for ev in m.events:
            pos = event_pos.get(ev.content_type)
            if pos is not None:
                em.append(i)
                ets.append(ev.ts.timestamp())
                etype.append(pos)
        for w in m.keywords[:POPULATION_KEYWORDS]:
            km.append(i)
            kw.append(vocab.setdefault(w, len(vocab)))
    return MemberColumns(
        ids=[m.persona.member_id for m in ms], messages=messages, recent_messages=recent,
        first_seen=first, last_active=last, order_member=_i64(om), order_ts=_f64(ots),
        order_amount=_f64(oamt), order_coupon=np.asarray(ocpn, dtype=bool),
        order_category=ocat, order_id=oid, event_member=_i64(em), event_ts=_f64(ets),
        event_type=_i64(etype), tag_member=_i64(tm), tag_key=_i64(tk), tag_score=_f64(tsc),
        tag_age=np.zeros(len(tm)), tag_chat_evidence=_i64(tchat), tag_evidence_len=_i64(tlen),
        tag_expires=_f64(texp), tag_keys=list(keys), tag_evidence=tev, kw_member=_i64(km),
        kw_word=_i64(kw), vocab=list(vocab), details=lambda rows: [ms[i] for i in rows],
    )


def merge_tags(c: MemberColumns, rows: Sequence[int], part: MemberColumns) -> None:
    """Put `part`'s tags (and its frequency-tag recent counts) in for the members at `rows`.

    Used for members whose stored tags cannot stand for the run's as_of (stale, missing or
    computed later): the caller builds their personas as of as_of, one bounded chunk at a
    time, and their fresh tags join the columns read from storage.
    """
    if not len(part.tag_member):
        return
    rows_arr = np.asarray(rows, dtype=np.int64)
    keys = {k: j for j, k in enumerate(c.tag_keys)}
    remap = np.array([keys.setdefault(k, len(keys)) for k in part.tag_keys], dtype=np.int64)
    c.tag_keys = list(keys)
    base = len(c.tag_member)
    c.tag_member = np.concatenate([c.tag_member, rows_arr[part.tag_member]])
    c.tag_key = np.concatenate([c.tag_key, remap[part.tag_key]])
    c.tag_score = np.concatenate([c.tag_score, part.tag_score])
    c.tag_age = np.concatenate([c.tag_age, part.tag_age])
    c.tag_chat_evidence = np.concatenate([c.tag_chat_evidence, part.tag_chat_evidence])
    c.tag_evidence_len = np.concatenate([c.tag_evidence_len, part.tag_evidence_len])
    c.tag_expires = np.concatenate([c.tag_expires, part.tag_expires])
    for t, ev in part.tag_evidence.items():
        c.tag_evidence[base + t] = ev
