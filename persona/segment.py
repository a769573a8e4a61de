"""Segmentation: personas plus orders and content events → segments, circles, cards, patterns.

The method's third step ("analysis") in one pure function, `run_segmentation`. It takes the
members' personas (built as of the run's `as_of`), their orders and content events, and gives
every member a value tier, a lifecycle stage, a motivation, a layer, dynamic tags that expire,
and an interest circle; then it turns each key segment into a persona card, mines shared
patterns, ranks the features that separate the segments and, when the previous run is given,
says what changed. Nothing here reads a clock, a file or a database: `as_of` and the data are
passed in, randomness is seeded, and members are processed in member-id order, so the same
input always gives the same JSON (that is what makes stored runs comparable).

Rules (thresholds are `SegmentParams` fields; defaults in brackets). The member-level ones
live in persona/segment_rules.py, which `build_persona` uses too, so a member's segments are
the same in every command (tests/test_one_truth.py); only the high tier and the circles are
relative to the population, and personas take those from the latest stored run.

value (RFM, orders first, chat second)
    high    ≥ `high_min_orders` [2] orders, monetary in the buyers' top tier (its percentile
            rank, the share of buyers who spent no more, is ≥ `high_quantile` [0.8]), and the
            last order within `high_recency_days` [180]. Ranks are taken over buyers only and
            count ties in, so a 10-member community with three buyers still gets a high tier,
            and a member without orders is never high.
    growth  any order as of `as_of`, or no order but engaged: ≥ `engaged_messages` [8]
            messages in the last 30 days (the persona's "active" frequency level, read from
            its frequency tag) or ≥ `engaged_events` [5] content interactions in the last
            `recent_days` [30].
    general everyone else. A community without orders is split into growth/general by
            engagement alone.
lifecycle (the member's life in the chats: messages are activity; orders and content views
    are not — a member who buys without a word is still potential in the community, and a
    pushed article counts as a "view" and would hide churn)
    new        first seen (a message or a join notice) at most `new_days` [14] days before
               `as_of` (inclusive);
    potential  otherwise, never spoke (known from the member list, a join notice, orders or
               content events);
    declining  last message more than `declining_days` [30] days before `as_of`;
    mature     the rest.
motivation
    per code the decayed weight behind the persona's motivation tag (its score turned back
    into weight: weights add up, saturated scores do not); coupon orders are folded into
    price by the persona and count only as a habit: as evidence when ≥ `coupon_min_share`
    [0.5] of the member's orders used a coupon, and a price tag made of coupon orders alone
    needs ≥ `coupon_min_orders` [2] orders besides (two coupons in ten orders is no price
    sensitivity). The top code wins only with a score ≥ `motivation_min_score` [0.3], more
    than half of the summed weight (a split gives null) and ≥ `motivation_min_evidence` [2]
    supporting messages or counted coupon orders (one passing "多少钱" gives null).
layer
    core when high value, or ≥ `core_messages` [8] messages in the last 30 days, or a repeat
    buyer (≥ 2 orders) who is not declining; ordinary otherwise. Layers keep a useful split
    where circles blur.
dynamic tags (each with `expires_at`, dropped once expired)
    recently_asked / recently_complained / recently_intent from the persona's intent tags
    (their expiry is the persona's intent TTL); bought:<category> for a category bought less
    than `recent_days` [30] days ago, expiring `recent_days` after the last such order (the
    same window as the persona's own bought tags; orders without a category are left out).

Circles (persona/clusters.py), cards (persona/cards.py), patterns and feature importance
(persona/patterns.py) and run-to-run changes (persona/compare.py) document their own rules.

Scale: the members arrive as columns (`persona/tabulate.py`: from storage's SQL aggregates
and stored tags, or from per-member inputs) and become a `MemberTable` of numpy arrays; every rule
above is vectorised over it, clustering switches to a sample for choosing k and to
MiniBatchKMeans on large communities, and cards read a bounded, evenly spaced sample of each
segment for their text parts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from persona import cards, clusters, compare, patterns
from persona.member_columns import MemberColumns
from persona.member_table import MemberInput, MemberTable
from persona.segment_params import SegmentParams
from persona.segment_result import SegmentResult
from persona.segment_rules import (
    MOTIVATIONS,
    high_mask,
    layer_codes,
    lifecycle_codes,
    motivation_codes,
    value_codes,
)
from persona.tabulate import tabulate

# --------------------------------------------------------------------------------------------
# The rules, vectorised


def value_tiers(t: MemberTable, params: SegmentParams) -> np.ndarray:
    """high / growth / general per member (see the module docstring for the rule)."""
    high = high_mask(t.orders, t.monetary, t.last_order_age, params.high_min_orders,
                     params.high_quantile, params.high_recency_days)
    return value_codes(t.orders, t.recent_messages, t.recent_events, high, params.rules)


def lifecycle_stages(t: MemberTable, params: SegmentParams) -> np.ndarray:
    """potential / new / mature / declining, from the member's messages and join notices."""
    return lifecycle_codes(t.first_seen_age, t.last_msg_age, params.rules)


def motivations(t: MemberTable, params: SegmentParams) -> np.ndarray:
    """price / quality / service, or None when the evidence is thin or split."""
    scores = [t.motivation[:, j] for j in range(len(MOTIVATIONS))]
    chat = [t.motivation_evidence[:, j] for j in range(len(MOTIVATIONS))]
    return motivation_codes(scores, chat, t.price_evidence, t.orders, t.coupon_orders,
                            params.rules)


def layers(t: MemberTable, value: np.ndarray, lifecycle: np.ndarray,
           params: SegmentParams) -> np.ndarray:
    """core / ordinary (see the module docstring)."""
    return layer_codes(value, t.recent_messages, t.orders, lifecycle, params.rules)


def run_segmentation(members: Sequence[MemberInput] | MemberColumns | MemberTable,
                     as_of: datetime, params: SegmentParams,
                     previous: SegmentResult | None = None,
                     half_life_days: float = 30.0,
                     category_interests: Callable[[str], Sequence[str]] | None = None
                     ) -> SegmentResult:
    """Segment the community as of `as_of`; with `previous`, keep circle codes and say what
    changed (under `changes`). `category_interests` names the interests an order category
    stands for (persona/commerce.py), so "talks about X → bought X" is not reported as a
    pattern when the purchases themselves are part of the interest.

    `members` may already be tabulated (`tabulate` with the same as_of, params and half-life):
    a caller holding a million members' columns can then drop them before the rest of the
    run, whose own arrays would otherwise sit on top of them."""
    # The steps are called through their modules (as tabulate and the rules are module
    # globals here) so that scripts/bench_segment.py can time each one by patching it.
    table = (members if isinstance(members, MemberTable)
             else tabulate(members, as_of, params, half_life_days))
    value = value_tiers(table, params)
    lifecycle = lifecycle_stages(table, params)
    motivation = motivations(table, params)
    layer = layers(table, value, lifecycle, params)
    circles = clusters.find_circles(table, params, previous)
    segments = {"value": value, "lifecycle": lifecycle, "motivation": motivation,
                "layer": layer, "cluster": circles.assignment}
    persona_cards = cards.build_cards(table, segments, circles.circles, params)
    shared = patterns.find_patterns(table, params, category_interests)
    importance = patterns.feature_importance(table, segments, params)
    result = SegmentResult(
        as_of=as_of, params=params, member_ids=list(table.ids),
        value=value.tolist(), lifecycle=lifecycle.tolist(), motivation=motivation.tolist(),
        layer=layer.tolist(), cluster=circles.assignment.tolist(),
        dynamic_tags=list(table.dynamic), circles=circles.circles, clustering=circles.info,
        cards=persona_cards, patterns=shared, importance=importance,
        next_cluster_code=circles.next_code,
    )
    if previous is not None:
        result.changes = compare.compare_runs(previous, result)
    return result
