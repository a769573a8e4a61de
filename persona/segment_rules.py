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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

DAY = 86400.0
# Motivation codes in column order (persona.signals.MOTIVATION_CODES; repeated here so this
# module stays a leaf — tests/test_one_truth.py checks they agree).
MOTIVATIONS = ("price", "quality", "service")
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


# Each rule is written once and evaluated either on numpy columns (a run: every member at
# once) or on plain numbers (a persona: one member). Comparisons, `&` and `|` mean the same
# on both; the few steps that differ go through these helpers. A persona is built for every
# member at each tag rebuild, and numpy on rows of one cost ~100 µs a member there.
Value = Any  # a float / int / bool / str, or a numpy array of them


def _is_array(*xs: Value) -> bool:
    # a loop, not any(generator): this runs a dozen times per persona
    for x in xs:  # noqa: SIM110
        if isinstance(x, np.ndarray):
            return True
    return False


def _select(conditions: Sequence[Value], choices: Sequence[Value], default: Value,
            dtype: Any = object) -> Value:
    """The choice of the first condition that holds, else `default` (np.select's rule)."""
    if not _is_array(*conditions):
        for cond, choice in zip(conditions, choices, strict=True):
            if cond:
                return choice
        return default
    shape = np.broadcast(*conditions).shape
    out = np.full(shape, default, dtype=dtype)
    # the first condition wins: assign the last first
    for cond, choice in reversed(list(zip(conditions, choices, strict=True))):
        mask = np.broadcast_to(cond, shape)
        out[mask] = choice[mask] if isinstance(choice, np.ndarray) else choice
    return out


def _max(a: Value, b: Value) -> Value:
    return np.maximum(a, b) if _is_array(a, b) else max(a, b)


def _weight(score: Value) -> Value:
    """A saturated score 1 - exp(-w/2) turned back into its decayed weight w."""
    if _is_array(score):
        return -2.0 * np.log1p(-np.minimum(score.astype(np.float64), _BELOW_ONE))
    return -2.0 * math.log1p(-min(float(score), _BELOW_ONE))


def value_codes(orders: Value, recent_messages: Value, recent_events: Value, high: Value,
                rules: SegmentRules) -> Value:
    """high where `high` says so (population-relative: `high_mask`), growth for any buyer or
    engaged member, general for the rest."""
    growth = ((orders > 0) | (recent_messages >= rules.engaged_messages)
              | (recent_events >= rules.engaged_events))
    return _select([high, growth], ["high", "growth"], "general")


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


def lifecycle_codes(first_age: Value, last_age: Value, rules: SegmentRules) -> Value:
    """Ages are seconds before as_of, NaN for none. `first_age`: the first message or join
    notice; `last_age`: the last message. The stage is the member's life in the community's
    chats: a member who buys without ever speaking is still potential there (the sample
    community's truth labels them so), and neither an order nor a content view (a pushed
    article counts as one) hides that someone stopped talking.

    new: first seen within `new_days` (a join notice alone starts it); potential: never
    spoke; declining: silent for more than `declining_days`; mature: the rest."""
    new = first_age <= rules.new_days * DAY  # NaN compares False, without a warning
    never = last_age != last_age  # NaN, for floats and arrays alike
    gone = last_age > rules.declining_days * DAY
    return _select([new, never, gone], ["new", "potential", "declining"], "mature")


def lifecycle_code(first_seen: datetime | None, last_active: datetime | None, as_of: datetime,
                   rules: SegmentRules) -> str:
    """`lifecycle_codes` for one member, in times (None for none)."""
    def age(ts: datetime | None) -> float:
        return (as_of - ts).total_seconds() if ts is not None else math.nan

    return str(lifecycle_codes(age(first_seen), age(last_active), rules))


def motivation_codes(score: Sequence[Value], chat_evidence: Sequence[Value],
                     price_evidence: Value, orders: Value, coupon_orders: Value,
                     rules: SegmentRules) -> Value:
    """price / quality / service, or None when the evidence is thin or split.

    `score`: per code of MOTIVATIONS, the motivation tag's score (a saturated decayed
    weight, coupon orders folded into price; 0 without the tag); `chat_evidence`: per code,
    the tag's evidence ids that are messages; `price_evidence`: the price tag's evidence ids,
    coupon orders included.

    Scores are turned back into decayed weights, which add up where scores do not (0.99 and
    0.6 are 9.2 and 1.8 of weight). Coupon use speaks for price only as a habit: its coupon
    orders count as evidence when at least `coupon_min_share` of the member's orders used a
    coupon, and a price tag made of coupon orders alone counts only with
    `coupon_min_orders` orders as well (two coupons in ten orders is no price
    sensitivity). The top code (the first of MOTIVATIONS on a tie) wins with a score ≥
    `motivation_min_score`, more than half the summed weight (a split gives None) and ≥
    `motivation_min_evidence` supporting messages or counted coupon orders (one passing
    "多少钱" gives None)."""
    w_price, w_quality, w_service = (_weight(x) for x in score)
    e_price, e_quality, e_service = chat_evidence
    habit = (orders > 0) & (coupon_orders / _max(orders, 1) >= rules.coupon_min_share)
    counts = (e_price > 0) | (habit & (orders >= rules.coupon_min_orders))
    w_price = w_price * counts
    e_price = _select([habit], [price_evidence], e_price, np.float64)
    top = _max(_max(w_price, w_quality), w_service)
    first = [w_price == top, w_quality == top]
    code = _select(first, ["price", "quality"], "service")
    evidence = _select(first, [e_price, e_quality], e_service, np.float64)
    # saturate(top) ≥ min_score, as a weight: no exp per member
    floor = -2.0 * math.log1p(-rules.motivation_min_score)
    ok = ((top >= floor) & (top > 0.5 * (w_price + w_quality + w_service))
          & (evidence >= rules.motivation_min_evidence))
    return _select([ok], [code], None)


def layer_codes(value: Value, recent_messages: Value, orders: Value, lifecycle: Value,
                rules: SegmentRules) -> Value:
    """core: high value, or ≥ `core_messages` messages in the last 30 days, or a repeat buyer
    (≥ 2 orders) who is not declining; ordinary otherwise."""
    core = ((value == "high") | (recent_messages >= rules.core_messages)
            | ((orders >= 2) & (lifecycle != "declining")))
    return _select([core], ["core"], "ordinary")


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
    """One member's value, lifecycle, motivation and layer, by the rules above. `high` says
    whether a segmentation run put the member in the top tier."""
    f = facts
    value = value_codes(f.orders, f.recent_messages, f.recent_events, high, rules)
    lifecycle = lifecycle_codes(f.first_age, f.last_age, rules)
    motivation = motivation_codes(f.motivation, f.motivation_chat, f.price_evidence,
                                  f.orders, f.coupon_orders, rules)
    layer = layer_codes(value, f.recent_messages, f.orders, lifecycle, rules)
    return {"value": value, "lifecycle": lifecycle, "motivation": motivation, "layer": layer}
