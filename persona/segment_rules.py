"""The one rule per segment dimension: value, lifecycle, motivation and layer.

Every reader of a member's segments — `build_persona` (so `siyu personas` / `persona`,
invites, suggestions, 画像 and 我的数据) and `run_segmentation` (so `siyu segment`, the
stored runs, `siyu report`, 分群 and 报告) — decides them here, so a member is in the same
segment whichever command asks. The rules are vectorised over numpy arrays: segmentation
passes its member columns, a persona passes arrays of one.

What is population-relative is not decided here: the "high" value tier (the buyers' top
spenders) and the interest circles exist only against everyone else, so they come from a
segmentation run (`run_segmentation`, and for personas the latest stored run); this module
only says who is eligible (`high_mask`) and what a tier means for the layer.

The rules themselves are documented in persona/segment.py. A leaf module: it imports
nothing of the project, so persona/persona.py can hold its thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

DAY = 86400.0
# Motivation codes in column order (persona.signals.MOTIVATION_CODES; repeated here so this
# module stays a leaf — tests/test_one_truth.py checks they agree).
MOTIVATIONS = ("price", "quality", "service")
_PRICE = MOTIVATIONS.index("price")
# The largest score below 1: a saturated score of exactly 1.0 would invert to infinity.
_BELOW_ONE = float(np.nextafter(1.0, 0.0))


@dataclass(frozen=True, slots=True)
class SegmentRules:
    """The thresholds of the member-level rules (SegmentParams carries the same fields and
    hands them over as `SegmentParams.rules`, so a `[segment]` override reaches personas)."""

    new_days: int = 14
    declining_days: int = 30
    engaged_messages: int = 8
    engaged_events: int = 5
    recent_days: int = 30  # the window of `engaged_events`
    motivation_min_score: float = 0.3
    motivation_min_evidence: int = 2
    coupon_min_orders: int = 2
    coupon_min_share: float = 0.5
    core_messages: int = 8


def value_codes(orders: np.ndarray, recent_messages: np.ndarray, recent_events: np.ndarray,
                high: np.ndarray, rules: SegmentRules) -> np.ndarray:
    """high where `high` says so (population-relative: `high_mask`), growth for any buyer or
    engaged member, general for the rest."""
    engaged = ((np.asarray(recent_messages) >= rules.engaged_messages)
               | (np.asarray(recent_events) >= rules.engaged_events))
    tier = np.where((np.asarray(orders) > 0) | engaged, "growth", "general").astype(object)
    tier[np.asarray(high, dtype=bool)] = "high"
    return tier


def high_mask(orders: np.ndarray, monetary: np.ndarray, last_order_age: np.ndarray,
              high_min_orders: int, high_quantile: float, high_recency_days: int
              ) -> np.ndarray:
    """The buyers in the top spend tier: ≥ `high_min_orders` orders, a percentile rank
    among buyers (ties counted in) ≥ `high_quantile`, last order within the recency."""
    buyers = orders > 0
    if not buyers.any():
        return np.zeros(len(orders), dtype=bool)
    spent = np.sort(monetary[buyers])
    rank = np.searchsorted(spent, monetary, side="right") / len(spent)
    with np.errstate(invalid="ignore"):
        fresh = last_order_age <= high_recency_days * DAY
    return buyers & (orders >= high_min_orders) & (rank >= high_quantile) & fresh


def lifecycle_codes(first_age: np.ndarray, last_age: np.ndarray, rules: SegmentRules
                    ) -> np.ndarray:
    """Ages are seconds before as_of, NaN for none. `first_age`: the first message or join
    notice; `last_age`: the last message. The stage is the member's life in the community's
    chats: a member who buys without ever speaking is still potential there (the sample
    community's truth labels them so), and neither an order nor a content view (a pushed
    article counts as one) hides that someone stopped talking.

    new: first seen within `new_days` (a join notice alone starts it); potential: never
    spoke; declining: silent for more than `declining_days`; mature: the rest."""
    first = np.asarray(first_age, dtype=np.float64)
    last = np.asarray(last_age, dtype=np.float64)
    stage = np.full(first.shape, "mature", dtype=object)
    with np.errstate(invalid="ignore"):
        stage[last > rules.declining_days * DAY] = "declining"
        stage[np.isnan(last)] = "potential"
        stage[first <= rules.new_days * DAY] = "new"
    return stage


def lifecycle_code(first_seen: datetime | None, last_active: datetime | None, as_of: datetime,
                   rules: SegmentRules) -> str:
    """`lifecycle_codes` for one member, in times (None for none)."""
    def age(ts: datetime | None) -> float:
        return (as_of - ts).total_seconds() if ts is not None else np.nan

    return str(lifecycle_codes(np.array([age(first_seen)]), np.array([age(last_active)]),
                               rules)[0])


def motivation_codes(score: np.ndarray, chat_evidence: np.ndarray, price_evidence: np.ndarray,
                     orders: np.ndarray, coupon_orders: np.ndarray, rules: SegmentRules
                     ) -> np.ndarray:
    """price / quality / service, or None when the evidence is thin or split.

    `score`: n × MOTIVATIONS, the motivation tags' scores (saturated decayed weights, coupon
    orders folded into price); `chat_evidence`: n × MOTIVATIONS, the tags' evidence ids that
    are messages; `price_evidence`: the price tag's evidence ids, coupon orders included.

    Scores are turned back into decayed weights, which add up where scores do not (0.99 and
    0.6 are 9.2 and 1.8 of weight). Coupon use speaks for price only as a habit: its coupon
    orders count as evidence when at least `coupon_min_share` of the member's orders used a
    coupon, and a price tag made of coupon orders alone counts only with
    `coupon_min_orders` such orders as well (two coupons in ten orders is no price
    sensitivity). The top code wins with a score ≥ `motivation_min_score`, more than half
    the summed weight (a split gives None) and ≥ `motivation_min_evidence` supporting
    messages or counted coupon orders (one passing "多少钱" gives None)."""
    score = np.atleast_2d(np.asarray(score, dtype=np.float64))
    n = score.shape[0]
    weight = -2.0 * np.log1p(-np.minimum(score, _BELOW_ONE))
    evidence = np.atleast_2d(np.asarray(chat_evidence, dtype=np.float64)).copy()
    orders = np.asarray(orders, dtype=np.float64)
    share = np.asarray(coupon_orders, dtype=np.float64) / np.maximum(orders, 1.0)
    habit = (orders > 0) & (share >= rules.coupon_min_share)
    from_chat = evidence[:, _PRICE] > 0
    weight[:, _PRICE] = np.where(from_chat | (habit & (orders >= rules.coupon_min_orders)),
                                 weight[:, _PRICE], 0.0)
    evidence[:, _PRICE] = np.where(habit, np.asarray(price_evidence, dtype=np.float64),
                                   evidence[:, _PRICE])
    rows = np.arange(n)
    top = np.argmax(weight, axis=1) if n else np.zeros(0, dtype=np.int64)
    top_weight = weight[rows, top]
    ok = ((1.0 - np.exp(-top_weight / 2.0) >= rules.motivation_min_score)
          & (top_weight > 0.5 * weight.sum(axis=1))
          & (evidence[rows, top] >= rules.motivation_min_evidence))
    out = np.full(n, None, dtype=object)
    out[ok] = np.array(MOTIVATIONS, dtype=object)[top[ok]]
    return out


def layer_codes(value: np.ndarray, recent_messages: np.ndarray, orders: np.ndarray,
                lifecycle: np.ndarray, rules: SegmentRules) -> np.ndarray:
    """core: high value, or ≥ `core_messages` messages in the last 30 days, or a repeat buyer
    (≥ 2 orders) who is not declining; ordinary otherwise."""
    core = ((np.asarray(value, dtype=object) == "high")
            | (np.asarray(recent_messages) >= rules.core_messages)
            | ((np.asarray(orders) >= 2) & (np.asarray(lifecycle, dtype=object) != "declining")))
    return np.where(core, "core", "ordinary").astype(object)


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """One member's facts as the rules read them (what a persona knows as of its as_of)."""

    first_age: float  # seconds: first message or join notice (NaN when none)
    last_age: float  # seconds: last message (NaN when none)
    recent_messages: int  # in the last 30 days
    recent_events: int  # content interactions in the last `recent_days`
    orders: int
    coupon_orders: int
    motivation: tuple[float, float, float]  # tag scores, in MOTIVATIONS order (0: no tag)
    motivation_chat: tuple[int, int, int]  # the tags' evidence ids that are messages
    price_evidence: int  # the price tag's evidence ids, coupon orders included


def member_segments(facts: MemberFacts, rules: SegmentRules, high: bool = False
                    ) -> dict[str, str | None]:
    """One member's value, lifecycle, motivation and layer: the rules above on a row of one.
    `high` says whether a segmentation run put the member in the top tier."""
    one = np.array([facts.orders])
    recent = np.array([facts.recent_messages])
    value = value_codes(one, recent, np.array([facts.recent_events]), np.array([high]), rules)
    lifecycle = lifecycle_codes(np.array([facts.first_age]), np.array([facts.last_age]), rules)
    motivation = motivation_codes(np.array([facts.motivation]),
                                  np.array([facts.motivation_chat]),
                                  np.array([facts.price_evidence]), one,
                                  np.array([facts.coupon_orders]), rules)
    layer = layer_codes(value, recent, one, lifecycle, rules)
    return {"value": value[0], "lifecycle": lifecycle[0], "motivation": motivation[0],
            "layer": layer[0]}
