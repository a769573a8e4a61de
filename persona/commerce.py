"""Business facts beside the chat: orders and content interactions from other channels.

Plain records, shared by persona aggregation, segmentation and suggestions. Amounts are in
yuan; times are timezone-aware.

Below the records: the pure helpers persona aggregation uses to turn them into stats and tags
(order stats, the "bought category X" window, content-event weights and ids). They hold no
clock; `as_of` is always passed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CONTENT_TYPES = ("article", "video", "live")
CONTENT_ACTIONS = ("view", "click", "share", "comment")


@dataclass(frozen=True, slots=True)
class OrderRecord:
    order_id: str
    ts: datetime
    amount: float
    category: str | None = None
    coupon_used: bool = False


@dataclass(frozen=True, slots=True)
class ContentEventRecord:
    ts: datetime
    content_type: str  # one of CONTENT_TYPES
    action: str  # one of CONTENT_ACTIONS
    duration: float | None = None  # seconds, when the channel reports it


# ---- vocabulary ------------------------------------------------------------------------------
# Chinese labels of the content-preference tags (kind "content"); codes are CONTENT_TYPES.
CONTENT_LABELS = {"article": "图文", "video": "视频", "live": "直播"}

# How much one interaction says about a preference, before time decay. Taking part (a share,
# a comment) says more than looking; a view counts half, like one passing mention in chat.
ACTION_WEIGHTS = {"view": 0.5, "click": 0.5, "share": 1.0, "comment": 1.0}
# A view shorter than this is a bounce (opened, closed): it says almost nothing.
BOUNCE_SECONDS = 10.0
BOUNCE_FACTOR = 0.2

# One order paid with a coupon weighs as much as one price cue in chat ("有没有优惠").
COUPON_WEIGHT = 1.0
# An order whose category names an interest (母婴用品, 食品生鲜, 数码配件) weighs as much as one
# mention of it in chat: what a member buys says what they care about, even if they never
# talk about it, but one order is one fact among their words.
ORDER_INTEREST_WEIGHT = 1.0
# "Recently bought category X" is a dynamic tag: true for this many days after the last order.
RECENT_PURCHASE_DAYS = 30
# One order is a harder fact than one chat mention, so it weighs two before decay.
PURCHASE_WEIGHT = 2.0


# ---- helpers for persona aggregation (pure: time is always passed in) -----------------------
def content_event_id(event: ContentEventRecord) -> str:
    """A short, stable id for one interaction, used as tag evidence and as its storage key.

    Events carry no id of their own in other channels' exports, so the id is a hash of the
    fields that make the event (UTC time, type, action, duration). Two identical rows of one
    member are one interaction; storage keys it together with the member.
    """
    duration = "" if event.duration is None else repr(float(event.duration))
    key = "\x1f".join((event.ts.astimezone(UTC).isoformat(), event.content_type, event.action,
                       duration))
    return "ev-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def event_weight(event: ContentEventRecord) -> float:
    """How strongly one interaction points at a content preference (before decay)."""
    weight = ACTION_WEIGHTS.get(event.action, 0.5)
    if event.action == "view" and event.duration is not None and event.duration < BOUNCE_SECONDS:
        weight *= BOUNCE_FACTOR
    return weight


def order_stats(orders: Iterable[OrderRecord]) -> dict[str, float | int]:
    """Order count, total spend and average order value (0.0 with no orders), in yuan.

    Sums are rounded to fen so floating-point noise (0.1 + 0.2) never reaches a report.
    """
    count = 0
    total = 0.0
    for order in orders:
        count += 1
        total += order.amount
    monetary = round(total, 2)
    return {"orders": count, "monetary": monetary,
            "aov": round(monetary / count, 2) if count else 0.0}


def category_interests(category: str, keywords: Mapping[str, Iterable[str]]
                       ) -> tuple[str, ...]:
    """The interest codes a shop's category label names through the taxonomy's keywords:
    "母婴用品" → parenting (母婴), "食品生鲜" → food (生鲜), "苹果手机" → digital only.

    A label is short and written by the shop, so keywords are found inside it; a keyword that
    lies within a longer one found ("苹果" in "苹果手机") does not count, so the longer, more
    specific word decides. A label that names no keyword names no interest.
    """
    found = sorted((w for w in keywords if w and w in category), key=len, reverse=True)
    kept: list[str] = []
    for word in found:
        if not any(word in longer for longer in kept):
            kept.append(word)
    return tuple(sorted({code for word in kept for code in keywords[word]}))


def bought_code(category: str) -> str:
    return f"bought:{category}"


def bought_label(category: str) -> str:
    return f"近{RECENT_PURCHASE_DAYS}天购买 {category}"


def recent_purchases(orders: Sequence[OrderRecord], as_of: datetime,
                     days: int = RECENT_PURCHASE_DAYS) -> dict[str, list[OrderRecord]]:
    """Category → its orders in the window (as_of - days, as_of], newest first.

    The window is open at its start so the tag built from it, which expires `days` after the
    last order, is never shown on the very moment it expires. Orders without a category
    cannot say what was bought and are left out.
    """
    # Compared as an age, not against `as_of - days`: a difference of two times always
    # exists, while a start days before an early as_of (0001-01-01) is before year 1.
    window = timedelta(days=days)
    out: dict[str, list[OrderRecord]] = {}
    for order in orders:
        if order.category and order.ts <= as_of and as_of - order.ts < window:
            out.setdefault(order.category, []).append(order)
    for items in out.values():
        items.sort(key=lambda o: (o.ts, o.order_id), reverse=True)
    return dict(sorted(out.items()))
