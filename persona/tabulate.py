"""Segmentation inputs as columns: flat arrays per fact, no Python object per member.

A million members as `MemberInput` objects (a Persona, its Tags, its orders) cost ~5 KB and
a dozen objects each, and most of a run went to building them and to the garbage collector
walking them. Segmentation only ever needs a handful of numbers per member plus the stored
derived tags, so storage can hand those over as arrays (`storage/columns.py`) and this module
turns them into the `MemberTable` every rule reads.

Two producers fill the same `MemberColumns`, so there is one table builder and the columnar
path cannot drift from the per-member one:
- `columns_from_inputs` — from `MemberInput`s (tests, small callers, members whose stored
  tags cannot be used);
- `storage.columns.ColumnReader` — straight from SQL aggregates and the `tag` table.

Stored tags were computed at some earlier moment (`computed_at`, the newest fact then). With no
new fact since, a later `as_of` only adds decay: every supporting fact's weight is multiplied by
the same 0.5 ** (Δt / half_life), so a saturated score s = 1 - exp(-w/2) becomes
1 - exp(-w·f/2) with w = -2·ln(1 - s) (`project_score`). Time-of-day tags are shares of the
decayed weight, which the common factor leaves unchanged. Tags that sink below the persona's
reporting floor disappear, as `build_persona` would drop them. Attribute tags decay only half
(`stable` weights) and are taken as stored: only their value (city, life stage …) is read, and
decay cannot change which value leads except in contrived ties.

Text parts (quotes, chats, the join channel, a member's top-30 keywords) are only read for
the members a persona card samples, through `details`, so they stay bounded.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from persona.commerce import CONTENT_TYPES
from persona.member_table import (
    POPULATION_KEYWORDS,
    TAG_KINDS_READ,
    DetailLoader,
    DynamicTag,
    MemberInput,
    MemberTable,
    no_details,
    recent_messages,
)
from persona.persona import SCORE_FLOOR, TAG_KINDS, TIME_LABELS
from persona.segment_params import (
    CONTENT_KIND_LABELS,
    CONTENT_KINDS,
    DAY,
    DYNAMIC_LABELS,
    GENERIC_WORDS,
    INTENT_DYNAMIC,
    TIME_CODES,
    SegmentError,
    SegmentParams,
)
from persona.signals import ATTRIBUTE_FIELDS, MOTIVATION_CODES

# Kinds whose score is a saturated decayed sum (projectable to a later as_of).
DECAYED_KINDS = frozenset({"interest", "content", "motivation", "intent"})


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
    first_seen: np.ndarray  # first message or join notice (NaN without messages)
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


def project_score(score: np.ndarray, age: np.ndarray, half_life_days: float) -> np.ndarray:
    """Saturated decayed scores as of `age` seconds later, with no new support since."""
    score = np.asarray(score, dtype=np.float64)
    out = score.copy()
    move = (age != 0) & (score < 1.0)
    if move.any():
        factor = 0.5 ** (age[move] / (half_life_days * DAY))
        weight = -2.0 * np.log1p(-score[move])
        out[move] = -np.expm1(-weight * factor / 2.0)
    return out


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
        if count:
            messages[i] = count
            fs, la = stats.get("first_seen"), stats.get("last_active")
            first[i] = fs.timestamp() if fs else math.nan
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


def _dense(n: int, width: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
           dtype: Any = np.float32) -> np.ndarray:
    out = np.zeros((n, width), dtype=dtype)
    if len(rows):
        out[rows, cols] = vals
    return out


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def table_from_columns(c: MemberColumns, as_of: datetime, params: SegmentParams,
                       half_life_days: float = 30.0) -> MemberTable:
    """Columns → the `MemberTable` the rules read; numpy throughout, Python only per tag key,
    per category and per dynamic tag."""
    if as_of.tzinfo is None:
        raise SegmentError("as_of: 需要带时区的时间 (must be timezone-aware)")
    ids = c.ids
    for a, b in itertools.pairwise(ids):
        if a == b:
            raise SegmentError(f"members: 成员 {a} 出现了两次 (member listed twice)")
        if a > b:
            raise SegmentError(f"members: 未按成员 id 排序 ({a} > {b}) (not in member-id order)")
    n = len(ids)
    now = as_of.timestamp()
    recent = params.recent_days * DAY

    # ---- tags: project, drop what build_persona would drop at as_of
    nk = len(c.tag_keys)
    kinds = np.array([k[0] for k in c.tag_keys] or [""], dtype=object)
    codes = [k[1] for k in c.tag_keys]
    tkind = kinds[c.tag_key] if len(c.tag_key) else np.zeros(0, dtype=object)
    decayed = np.isin(tkind, list(DECAYED_KINDS)) if len(tkind) else np.zeros(0, dtype=bool)
    score = c.tag_score.astype(np.float64)
    if decayed.any():
        score[decayed] = project_score(score[decayed], c.tag_age[decayed], half_life_days)
    alive = ~decayed | (score >= SCORE_FLOOR)
    is_intent = tkind == "intent"
    with np.errstate(invalid="ignore"):
        alive &= ~is_intent | (c.tag_expires > now)

    # labels: first member (in id order) holding a code, in the persona's tag order there
    labels: dict[str, str] = dict(TIME_LABELS)
    kind_rank = {k: i for i, k in enumerate(TAG_KINDS)}
    label_kinds = ("interest", "content", "motivation", "attribute")
    rows = np.flatnonzero(alive & np.isin(tkind, label_kinds)) if len(tkind) else _i64()
    if len(rows):
        krank = np.array([kind_rank.get(k[0], 99) for k in c.tag_keys], dtype=np.int64)
        code_rank = np.argsort(np.argsort(np.array(codes, dtype=object), kind="stable"),
                               kind="stable")
        # each key in order of its first appearance in the tags sorted by (member, score
        # high first, kind rank, code rank): rank and code are the key's own, so that is the
        # key's smallest member, then its highest (rounded) score at that member. Per key
        # with ufunc.at, then a sort of the keys: a lexsort of the ≈ 3M rows at a million
        # members was 1.5 s. fmin: NaN last, as the row sort put it; codes rank distinctly,
        # so no two keys tie.
        rkey, rmember = c.tag_key[rows], c.tag_member[rows]
        first_member = np.full(nk, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_member, rkey, rmember)
        at_first = rmember == first_member[rkey]
        best = np.full(nk, np.nan)
        np.fmin.at(best, rkey[at_first], -np.round(score[rows[at_first]], 6))
        uniq = np.unique(rkey)
        # row-sized (≈ 3M at a million members): gone before the rest of the table is made
        del rkey, rmember, at_first
        for k in uniq[np.lexsort((code_rank[uniq], krank[uniq], best[uniq],
                                  first_member[uniq]))].tolist():
            kind, code, label = c.tag_keys[k]
            if kind == "interest" or (kind == "content" and code in CONTENT_KINDS) or (
                    kind == "motivation" and code in MOTIVATION_CODES):
                labels.setdefault(code, label)
            elif kind == "attribute":
                labels.setdefault(code, label)
                value = code.partition(":")[2]
                if value:
                    labels.setdefault(value, label)

    del rows  # the label tags' rows, ≈ 3M at a million members

    def cells(kind: str, positions: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        col_of = np.array([positions.get(k[1], -1) if k[0] == kind else -1
                           for k in c.tag_keys] or [-1], dtype=np.int64)
        cols = col_of[c.tag_key] if len(c.tag_key) else _i64()
        sel = alive & (cols >= 0)
        return c.tag_member[sel], cols[sel], np.flatnonzero(sel)

    live_keys = set(np.unique(c.tag_key[alive]).tolist()) if nk else set()
    interest_codes = tuple(sorted({c.tag_keys[j][1] for j in live_keys
                                   if c.tag_keys[j][0] == "interest"}))
    r, col, sel = cells("interest", {code: j for j, code in enumerate(interest_codes)})
    interests = _dense(n, len(interest_codes), r, col, score[sel])
    r, col, sel = cells("time", {code: j for j, code in enumerate(TIME_CODES)})
    times = _dense(n, len(TIME_CODES), r, col, score[sel])
    r, col, sel = cells("content", {code: j for j, code in enumerate(CONTENT_KINDS)})
    content = _dense(n, len(CONTENT_KINDS), r, col, score[sel])
    r, col, sel = cells("motivation", {code: j for j, code in enumerate(MOTIVATION_CODES)})
    motivation = _dense(n, len(MOTIVATION_CODES), r, col, score[sel])
    mot_evidence = _dense(n, len(MOTIVATION_CODES), r, col, c.tag_chat_evidence[sel], np.int64)
    price = MOTIVATION_CODES.index("price")
    from_orders = sel[(col == price) & (c.tag_chat_evidence[sel] < c.tag_evidence_len[sel])]
    price_flag = np.zeros(n, dtype=bool)
    price_flag[c.tag_member[from_orders]] = True

    attributes: dict[str, list[str | None]] = {f: [None] * n for f in ATTRIBUTE_FIELDS}
    attr_key = {j: k[1].partition(":") for j, k in enumerate(c.tag_keys) if k[0] == "attribute"}
    if attr_key:
        # per key its field's position and value (Python per key, numpy per tag: a million
        # members hold ≈ 1.2M attribute tags)
        field_pos = {f: j for j, f in enumerate(ATTRIBUTE_FIELDS)}
        key_field = np.full(nk, -1, dtype=np.int64)
        key_value = np.full(nk, None, dtype=object)
        for j, (fld, _, value) in attr_key.items():
            if fld in field_pos and value:
                key_field[j], key_value[j] = field_pos[fld], value
        arows = np.flatnonzero(alive & (tkind == "attribute"))
        akey = c.tag_key[arows]
        afield = key_field[akey]
        use = afield >= 0
        amember, akey, afield = c.tag_member[arows][use], akey[use], afield[use]
        for j, fld in enumerate(ATTRIBUTE_FIELDS):
            mine = afield == j
            if mine.any():
                # a member's last such tag wins, as assigning tag by tag did: the first
                # occurrence in reverse order
                who, at = np.unique(amember[mine][::-1], return_index=True)
                column = np.full(n, None, dtype=object)
                column[who] = key_value[akey[mine][::-1][at]]
                attributes[fld] = column.tolist()
                del column
        del arows, akey, afield, amember, use

    dyn: dict[int, list[DynamicTag]] = {}
    # the intent tags that become dynamic tags, found per key; one Python step per tag made
    dyn_code = [INTENT_DYNAMIC.get(k[1]) if k[0] == "intent" else None for k in c.tag_keys]
    makes_dyn = np.array([code is not None for code in dyn_code] or [False], dtype=bool)
    trows = (np.flatnonzero(alive & is_intent & makes_dyn[c.tag_key]) if len(c.tag_key)
             else _i64())
    evidence_of = c.tag_evidence.get
    for t, k, i, expires in zip(trows.tolist(), c.tag_key[trows].tolist(),
                                c.tag_member[trows].tolist(), c.tag_expires[trows].tolist(),
                                strict=True):
        code = dyn_code[k]
        assert code is not None
        dyn.setdefault(i, []).append(DynamicTag(code, DYNAMIC_LABELS[code], _dt(expires),
                                                evidence_of(t, ())))

    # ---- orders up to as_of
    keep = c.order_ts <= now
    om = c.order_member[keep]
    oage = now - c.order_ts[keep]
    kept = np.flatnonzero(keep)
    orders = np.bincount(om, minlength=n).astype(np.int64)
    monetary = np.bincount(om, weights=c.order_amount[keep], minlength=n)
    coupon_orders = np.bincount(om, weights=c.order_coupon[keep].astype(np.int8),
                                minlength=n).astype(np.int64)
    first_order = np.full(n, math.nan)
    last_order = np.full(n, math.nan)
    np.fmax.at(first_order, om, oage)
    np.fmin.at(last_order, om, oage)
    ocat_names = [c.order_category[k] for k in kept.tolist()]
    categories = tuple(sorted({x for x in ocat_names if x}))
    cat_pos = {x: j for j, x in enumerate(categories)}
    ocat = np.array([cat_pos[x] if x else -1 for x in ocat_names], dtype=np.int64)
    bought = np.zeros((n, len(categories)), dtype=np.int32)
    has_cat = ocat >= 0
    np.add.at(bought, (om[has_cat], ocat[has_cat]), 1)

    # "Bought category X recently": only the orders in the window become tags.
    window: dict[tuple[int, int], list[int]] = {}
    for k in np.flatnonzero(has_cat & (oage < recent)).tolist():
        window.setdefault((int(om[k]), int(ocat[k])), []).append(int(kept[k]))
    ttl = timedelta(days=params.recent_days)
    for (i, j), ks in window.items():
        ks.sort(key=lambda k: (c.order_ts[k], c.order_id[k]), reverse=True)
        cat = categories[j]
        dyn.setdefault(i, []).append(DynamicTag(
            f"bought:{cat}", f"近{params.recent_days}天购买 {cat}",
            _dt(float(c.order_ts[ks[0]])) + ttl, tuple(c.order_id[k] for k in ks[:3])))
    dynamic: list[tuple[DynamicTag, ...]] = [()] * n
    for i, tags in dyn.items():
        # most members with any have one: nothing to sort
        dynamic[i] = (tags[0],) if len(tags) == 1 else tuple(sorted(tags, key=lambda d: d.code))

    # ---- content events up to as_of
    ekeep = c.event_ts <= now
    em = c.event_member[ekeep]
    eage = now - c.event_ts[ekeep]
    events = np.zeros((n, len(CONTENT_TYPES)), dtype=np.int64)
    np.add.at(events, (em, c.event_type[ekeep]), 1)
    recent_events = np.bincount(em[eage <= recent], minlength=n).astype(np.int64)

    for code in categories:
        labels.setdefault(code, code)
    for code, label in CONTENT_KIND_LABELS.items():
        labels.setdefault(code, label)

    has_msgs = c.messages > 0
    first_msg = np.where(has_msgs, now - c.first_seen, math.nan)
    last_msg = np.where(has_msgs, now - c.last_active, math.nan)
    return MemberTable(
        ids=list(ids), messages=c.messages.astype(np.int64),
        recent_messages=np.where(has_msgs, c.recent_messages, 0).astype(np.int64),
        first_msg_age=first_msg, last_msg_age=last_msg, orders=orders, monetary=monetary,
        coupon_orders=coupon_orders, first_order_age=first_order, last_order_age=last_order,
        recent_events=recent_events, event_counts=events, interest_codes=interest_codes,
        interests=interests, times=times, content=content, motivation=motivation,
        motivation_evidence=mot_evidence, price_from_orders=price_flag,
        categories=categories, bought=bought, attributes=attributes, dynamic=dynamic,
        labels=labels, stop_words=GENERIC_WORDS | {x for x in attributes["city"] if x},
        kw_member=c.kw_member, kw_word=c.kw_word, vocab=c.vocab, details=c.details,
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


def tabulate(members: Sequence[MemberInput] | MemberColumns, as_of: datetime,
             params: SegmentParams, half_life_days: float = 30.0) -> MemberTable:
    """Members (per-member inputs or storage's columns) → the table every rule reads.

    Both shapes go through `table_from_columns`, so there is one builder.
    Orders and events after `as_of` are ignored.
    """
    if as_of.tzinfo is None:
        raise SegmentError("as_of: 需要带时区的时间 (must be timezone-aware)")
    cols = members if isinstance(members, MemberColumns) else columns_from_inputs(members)
    return table_from_columns(cols, as_of, params, half_life_days)
