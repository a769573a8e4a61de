"""Tabulation: segmentation's member columns → the `MemberTable` every rule reads.

The columns (persona/member_columns.py) come from storage or from per-member inputs; this
module projects their stored tags to the run's as_of and lays everything out as numpy arrays
in member-id order.

Stored tags were computed at some earlier moment (`computed_at`, the newest fact then). With no
new fact since, a later `as_of` only adds decay: every supporting fact's weight is multiplied by
the same 0.5 ** (Δt / half_life), so a saturated score s = 1 - exp(-w/2) becomes
1 - exp(-w·f/2) with w = -2·ln(1 - s) (`project_score`). Time-of-day tags are shares of the
decayed weight, which the common factor leaves unchanged. Tags that sink below the persona's
reporting floor disappear, as `build_persona` would drop them. Attribute tags decay only half
(`stable` weights) and are taken as stored: only their value (city, life stage …) is read, and
decay cannot change which value leads except in contrived ties.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np

from persona.commerce import CONTENT_TYPES
from persona.complaint import MEAN_SCORED
from persona.member_columns import MemberColumns, columns_from_inputs
from persona.member_table import DynamicTag, MemberInput, MemberTable
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

# Kinds whose score is a saturated decayed sum (projectable to a later as_of), except the
# complaint tag (persona/complaint.py: MEAN_SCORED).
DECAYED_KINDS = frozenset({"interest", "content", "motivation", "intent"})


def _i64(values: Any = ()) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


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
    per category and per dynamic tag.

    In steps: the tags that still stand at as_of, the labels they carry, their scores as
    member × code matrices, the attribute values, the dynamic tags, then orders and content
    events. Each step's row-sized temporaries die with it, which keeps a million-member
    run's peak down."""
    if as_of.tzinfo is None:
        raise SegmentError("as_of: 需要带时区的时间 (must be timezone-aware)")
    _check_order(c.ids)
    n = len(c.ids)
    now = as_of.timestamp()
    tags = _live_tags(c, now, half_life_days)
    labels = _tag_labels(c, tags)
    scores = _tag_scores(c, n, tags)
    attributes = _attribute_values(c, n, tags)
    dyn = _intent_dynamic(c, tags)
    orders = _order_facts(c, n, now, params, dyn)
    dynamic: list[tuple[DynamicTag, ...]] = [()] * n
    for i, made in dyn.items():
        # most members with any have one: nothing to sort
        dynamic[i] = (made[0],) if len(made) == 1 else tuple(sorted(made, key=lambda d: d.code))
    events, recent_events = _event_counts(c, n, now, params.recent_days * DAY)

    for code in orders.categories:
        labels.setdefault(code, code)
    for code, label in CONTENT_KIND_LABELS.items():
        labels.setdefault(code, label)

    has_msgs = c.messages > 0
    last_msg = np.where(has_msgs, now - c.last_active, math.nan)
    # first seen: a message or a join notice (even with no message since)
    first_seen = now - c.first_seen
    return MemberTable(
        ids=list(c.ids), messages=c.messages.astype(np.int64),
        recent_messages=np.where(has_msgs, c.recent_messages, 0).astype(np.int64),
        first_seen_age=first_seen, last_msg_age=last_msg,
        orders=orders.orders,
        monetary=orders.monetary, coupon_orders=orders.coupon_orders,
        first_order_age=orders.first_age, last_order_age=orders.last_age,
        recent_events=recent_events, event_counts=events,
        interest_codes=scores.interest_codes, interests=scores.interests, times=scores.times,
        content=scores.content, motivation=scores.motivation,
        motivation_evidence=scores.motivation_evidence,
        price_evidence=scores.price_evidence, categories=orders.categories,
        bought=orders.bought, attributes=attributes, dynamic=dynamic, labels=labels,
        stop_words=GENERIC_WORDS | {x for x in attributes["city"] if x},
        kw_member=c.kw_member, kw_word=c.kw_word, vocab=c.vocab, details=c.details,
    )


def _check_order(ids: Sequence[str]) -> None:
    """Every rule relies on member-id order without repeats; say which pair breaks it."""
    for a, b in itertools.pairwise(ids):
        if a == b:
            raise SegmentError(f"members: 成员 {a} 出现了两次 (member listed twice)")
        if a > b:
            raise SegmentError(f"members: 未按成员 id 排序 ({a} > {b}) (not in member-id order)")


class _LiveTags(NamedTuple):
    """The stored tags as of the run: projected scores and which still stand."""

    kinds: np.ndarray  # per tag row, its kind (object)
    score: np.ndarray  # per tag row, projected to as_of
    alive: np.ndarray  # bool per tag row: what build_persona would still report at as_of
    is_intent: np.ndarray  # bool per tag row


def _live_tags(c: MemberColumns, now: float, half_life_days: float) -> _LiveTags:
    """Project decayed scores to as_of and drop what build_persona would drop there."""
    kinds = np.array([k[0] for k in c.tag_keys] or [""], dtype=object)
    tkind = kinds[c.tag_key] if len(c.tag_key) else np.zeros(0, dtype=object)
    decayed = np.isin(tkind, list(DECAYED_KINDS)) if len(tkind) else np.zeros(0, dtype=bool)
    # the complaint tag's score is a mean whose decay cancels (persona/complaint.py): as stored,
    # and with no floor, as build_persona scores it
    mean_key = np.array([k[:2] == MEAN_SCORED for k in c.tag_keys] or [False], dtype=bool)
    if len(tkind):
        decayed &= ~mean_key[c.tag_key]
    score = c.tag_score.astype(np.float64)
    if decayed.any():
        score[decayed] = project_score(score[decayed], c.tag_age[decayed], half_life_days)
    alive = ~decayed | (score >= SCORE_FLOOR)
    is_intent = tkind == "intent"
    with np.errstate(invalid="ignore"):
        alive &= ~is_intent | (c.tag_expires > now)
    return _LiveTags(tkind, score, alive, is_intent)


def _tag_labels(c: MemberColumns, tags: _LiveTags) -> dict[str, str]:
    """Code → label: the first member (in id order) holding a code, in the persona's tag
    order there."""
    labels: dict[str, str] = dict(TIME_LABELS)
    tkind, score, alive = tags.kinds, tags.score, tags.alive
    nk = len(c.tag_keys)
    codes = [k[1] for k in c.tag_keys]
    kind_rank = {k: i for i, k in enumerate(TAG_KINDS)}
    label_kinds = ("interest", "content", "motivation", "attribute")
    rows = np.flatnonzero(alive & np.isin(tkind, label_kinds)) if len(tkind) else _i64()
    if not len(rows):
        return labels
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
    # row-sized (≈ 3M at a million members): gone before the labels are gathered
    del rkey, rmember, at_first, rows
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
    return labels


class _TagScores(NamedTuple):
    """The standing tags' scores as member × code matrices."""

    interest_codes: tuple[str, ...]
    interests: np.ndarray
    times: np.ndarray
    content: np.ndarray
    motivation: np.ndarray
    motivation_evidence: np.ndarray
    price_evidence: np.ndarray


def _tag_scores(c: MemberColumns, n: int, tags: _LiveTags) -> _TagScores:
    """Interest, time, content and motivation scores per member and code, and how many
    evidence ids (coupon orders included) a member's price tag holds."""
    score, alive = tags.score, tags.alive

    def cells(kind: str, positions: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        col_of = np.array([positions.get(k[1], -1) if k[0] == kind else -1
                           for k in c.tag_keys] or [-1], dtype=np.int64)
        cols = col_of[c.tag_key] if len(c.tag_key) else _i64()
        sel = alive & (cols >= 0)
        return c.tag_member[sel], cols[sel], np.flatnonzero(sel)

    live_keys = set(np.unique(c.tag_key[alive]).tolist()) if len(c.tag_keys) else set()
    interest_codes = tuple(sorted({c.tag_keys[j][1] for j in live_keys
                                   if c.tag_keys[j][0] == "interest"}))
    r, col, sel = cells("interest", {code: j for j, code in enumerate(interest_codes)})
    interests = _dense(n, len(interest_codes), r, col, score[sel])
    r, col, sel = cells("time", {code: j for j, code in enumerate(TIME_CODES)})
    times = _dense(n, len(TIME_CODES), r, col, score[sel])
    r, col, sel = cells("content", {code: j for j, code in enumerate(CONTENT_KINDS)})
    content = _dense(n, len(CONTENT_KINDS), r, col, score[sel])
    r, col, sel = cells("motivation", {code: j for j, code in enumerate(MOTIVATION_CODES)})
    # float64: the motivation rule turns scores back into weights near 1 too
    motivation = _dense(n, len(MOTIVATION_CODES), r, col, score[sel], np.float64)
    mot_evidence = _dense(n, len(MOTIVATION_CODES), r, col, c.tag_chat_evidence[sel], np.int64)
    price = MOTIVATION_CODES.index("price")
    at_price = col == price
    price_evidence = np.zeros(n, dtype=np.int64)
    price_evidence[r[at_price]] = c.tag_evidence_len[sel[at_price]]
    return _TagScores(interest_codes, interests, times, content, motivation, mot_evidence,
                      price_evidence)


def _attribute_values(c: MemberColumns, n: int, tags: _LiveTags
                      ) -> dict[str, list[str | None]]:
    """Each member's value per attribute field (city, life stage …), from the standing tags."""
    attributes: dict[str, list[str | None]] = {f: [None] * n for f in ATTRIBUTE_FIELDS}
    attr_key = {j: k[1].partition(":") for j, k in enumerate(c.tag_keys) if k[0] == "attribute"}
    if not attr_key:
        return attributes
    # per key its field's position and value (Python per key, numpy per tag: a million
    # members hold ≈ 1.2M attribute tags)
    field_pos = {f: j for j, f in enumerate(ATTRIBUTE_FIELDS)}
    key_field = np.full(len(c.tag_keys), -1, dtype=np.int64)
    key_value = np.full(len(c.tag_keys), None, dtype=object)
    for j, (fld, _, value) in attr_key.items():
        if fld in field_pos and value:
            key_field[j], key_value[j] = field_pos[fld], value
    arows = np.flatnonzero(tags.alive & (tags.kinds == "attribute"))
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
    return attributes


def _intent_dynamic(c: MemberColumns, tags: _LiveTags) -> dict[int, list[DynamicTag]]:
    """Member row → the dynamic tags its standing intent tags make ("recently asked" …)."""
    dyn: dict[int, list[DynamicTag]] = {}
    # the intent tags that become dynamic tags, found per key; one Python step per tag made
    dyn_code = [INTENT_DYNAMIC.get(k[1]) if k[0] == "intent" else None for k in c.tag_keys]
    makes_dyn = np.array([code is not None for code in dyn_code] or [False], dtype=bool)
    trows = (np.flatnonzero(tags.alive & tags.is_intent & makes_dyn[c.tag_key])
             if len(c.tag_key) else _i64())
    evidence_of = c.tag_evidence.get
    for t, k, i, expires in zip(trows.tolist(), c.tag_key[trows].tolist(),
                                c.tag_member[trows].tolist(), c.tag_expires[trows].tolist(),
                                strict=True):
        code = dyn_code[k]
        assert code is not None
        dyn.setdefault(i, []).append(DynamicTag(code, DYNAMIC_LABELS[code], _dt(expires),
                                                evidence_of(t, ())))
    return dyn


class _OrderFacts(NamedTuple):
    """Per member, what the orders up to as_of say."""

    orders: np.ndarray
    monetary: np.ndarray
    coupon_orders: np.ndarray
    first_age: np.ndarray
    last_age: np.ndarray
    categories: tuple[str, ...]
    bought: np.ndarray  # n × len(categories)


def _order_facts(c: MemberColumns, n: int, now: float, params: SegmentParams,
                 dyn: dict[int, list[DynamicTag]]) -> _OrderFacts:
    """Counts, money, ages and categories of the orders up to as_of; the categories bought
    recently join `dyn` as bought:<category> tags."""
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
    for k in np.flatnonzero(has_cat & (oage < params.recent_days * DAY)).tolist():
        window.setdefault((int(om[k]), int(ocat[k])), []).append(int(kept[k]))
    ttl = timedelta(days=params.recent_days)
    for (i, j), ks in window.items():
        ks.sort(key=lambda k: (c.order_ts[k], c.order_id[k]), reverse=True)
        cat = categories[j]
        dyn.setdefault(i, []).append(DynamicTag(
            f"bought:{cat}", f"近{params.recent_days}天购买 {cat}",
            _dt(float(c.order_ts[ks[0]])) + ttl, tuple(c.order_id[k] for k in ks[:3])))
    return _OrderFacts(orders, monetary, coupon_orders, first_order, last_order, categories,
                       bought)


def _event_counts(c: MemberColumns, n: int, now: float, recent: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Content events up to as_of: per member and type, and per member in the last `recent`
    seconds."""
    ekeep = c.event_ts <= now
    em = c.event_member[ekeep]
    eage = now - c.event_ts[ekeep]
    events = np.zeros((n, len(CONTENT_TYPES)), dtype=np.int64)
    np.add.at(events, (em, c.event_type[ekeep]), 1)
    recent_events = np.bincount(em[eage <= recent], minlength=n).astype(np.int64)
    return events, recent_events


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
