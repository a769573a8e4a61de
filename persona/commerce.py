"""Business facts beside the chat: orders and content interactions from other channels.

Plain records, shared by persona aggregation, segmentation and suggestions. Amounts are in
yuan; times are timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
