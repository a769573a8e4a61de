"""Segmentation's parameters and the codes and labels every step of a run shares.

A leaf of the segmentation modules: the member table, the tabulation, the rules, circles,
cards, patterns and the result all read these, and this module reads none of them, so their
imports run one way. The rules themselves are documented in persona/segment.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

from persona.commerce import CONTENT_TYPES
from persona.persona import (
    LAYER_LABELS,
    LIFECYCLE_LABELS,
    MOTIVATION_SEGMENT_LABELS,
    VALUE_LABELS,
)
from persona.segment_rules import DAY as DAY
from persona.segment_rules import SegmentRules
from persona.signals import CONTENT_CODES

VALUE_CODES = ("high", "growth", "general")
LIFECYCLE_CODES = ("potential", "new", "mature", "declining")
LAYER_CODES = ("core", "ordinary")
TIME_CODES = ("morning", "daytime", "evening", "late_night")
# Content preference codes: what members share in chat, then what they consume elsewhere
# (the persona folds content events into content tags of the event's type).
CONTENT_KINDS = (*CONTENT_CODES, *(c for c in CONTENT_TYPES if c not in CONTENT_CODES))
GOALS = ("activate", "repurchase", "winback")
GOAL_LABELS = {"activate": "激活新成员", "repurchase": "促进复购", "winback": "召回流失"}
DIMENSIONS = ("value", "lifecycle", "motivation", "layer")
# JSON object keys cannot be null: counts list members without a motivation under this key.
NONE_KEY = "none"
SEGMENT_LABELS: dict[str, Mapping[str, str]] = {
    "value": VALUE_LABELS,
    "lifecycle": LIFECYCLE_LABELS,
    "motivation": {**MOTIVATION_SEGMENT_LABELS, NONE_KEY: "动机不明"},
    "layer": LAYER_LABELS,
}
DYNAMIC_LABELS = {
    "recently_asked": "近期提问",
    "recently_complained": "近期抱怨",
    "recently_intent": "近期有购买意向",
}
# Persona intent tag → dynamic tag.
INTENT_DYNAMIC = {
    "question": "recently_asked",
    "complaint": "recently_complained",
    "purchase_intent": "recently_intent",
}
CONTENT_KIND_LABELS = {"link": "分享链接", "video": "视频", "image": "图片",
                       "mini_program": "小程序", "article": "图文", "live": "直播"}
# Chat words that name no topic, need or pain ("上次", "回复"): kept out of circle vectors and
# card needs. The analyzer's stopwords.txt is their long-term home; listing them here keeps
# circles and cards clean whatever keywords the caller passes.
GENERIC_WORDS = frozenset({
    "上次", "下次", "这次", "上回", "下来", "回复", "分享", "朋友", "合适", "同问", "坐等",
    "前天", "昨天", "今天", "明天", "后天", "办法", "处理", "新人", "报到", "姐妹", "姐妹们",
    "亲们", "有人", "知道", "一下", "东西", "时候", "感觉", "现在", "已经", "谢谢", "收到",
    "哈哈", "问题", "一次", "几天", "多少", "乱七八糟", "大家好", "求助", "请问", "推荐", "链接",
    "图片", "看看", "觉得", "好像", "一样", "还有", "之前", "之后", "最近", "平时",
})


class SegmentError(ValueError):
    """Input or parameters that segmentation cannot use; the message names the field."""


@dataclass(frozen=True)
class SegmentParams:
    """Every threshold of the run; stored with the result so a run can be reproduced.

    See the module docstring for what each rule does with them.
    """

    new_days: int = 14
    declining_days: int = 30
    goal: str = "repurchase"
    timezone: str = "Asia/Shanghai"
    # "recent" window: engagement, bought:<category> tags and their lifetime
    recent_days: int = 30
    # value
    high_quantile: float = 0.8
    high_min_orders: int = 2
    high_recency_days: int = 180
    engaged_messages: int = 8
    engaged_events: int = 5
    # motivation
    motivation_min_score: float = 0.3
    motivation_min_evidence: int = 2
    coupon_min_orders: int = 2
    coupon_min_share: float = 0.5
    # layer
    core_messages: int = 8
    # interest circles
    k_min: int = 2
    k_max: int = 8
    seed: int = 42
    min_profiled: int = 6  # fewer profiled members than this: one circle, no k search
    min_circle_size: int = 3  # smaller clusters dissolve (members get no circle)
    min_silhouette: float = 0.05  # best k below this: everyone similar, one circle
    k_tolerance: float = 0.1  # the smallest k within this share of the best silhouette wins
    keyword_weight: float = 0.5  # keywords vs interest tags in the circle vectors
    max_keywords: int = 300  # keyword vocabulary kept for circles
    min_jaccard: float = 0.2  # a new circle keeps an old code only with this much overlap
    select_sample: int = 10_000  # members used to choose k on large communities
    silhouette_sample: int = 3_000
    minibatch_threshold: int = 50_000
    # patterns
    min_support: float = 0.05
    min_count: int = 3
    min_lift: float = 1.0  # rules need lift strictly above this
    interest_min_score: float = 0.2  # an interest tag counts as "talks about X" from here
    min_contrast_buyers: int = 3
    min_contrast_ratio: float = 1.1
    max_rules: int = 10
    max_contrasts: int = 5
    importance_top: int = 5
    importance_sample: int = 10_000
    # cards
    quotes_per_card: int = 3
    card_sample: int = 2_000

    def __post_init__(self) -> None:
        if self.goal not in GOALS:
            raise SegmentError(f"goal: 只能是 {' / '.join(GOALS)} (got {self.goal!r})")
        if self.new_days < 0 or self.declining_days < 1:
            raise SegmentError("new_days/declining_days: 必须为正数 (must be positive)")
        if not 2 <= self.k_min <= self.k_max:
            raise SegmentError("k_min/k_max: 需要 2 ≤ k_min ≤ k_max (need 2 ≤ k_min ≤ k_max)")
        if not 0.0 < self.high_quantile < 1.0:
            raise SegmentError("high_quantile: 必须在 0 和 1 之间 (must be in (0, 1))")
        if not 0.0 <= self.min_support <= 1.0:
            raise SegmentError("min_support: 必须在 0 和 1 之间 (must be in [0, 1])")
        try:
            ZoneInfo(self.timezone)
        except Exception as exc:  # ZoneInfoNotFoundError or a malformed key
            raise SegmentError(f"timezone: 未知时区 {self.timezone!r} (unknown zone)") from exc

    @property
    def rules(self) -> SegmentRules:
        """The member-level rules' thresholds, which personas share (persona/segment_rules.py)."""
        return SegmentRules(**{f.name: getattr(self, f.name) for f in fields(SegmentRules)})

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SegmentParams:
        """Known keys only, so a run stored by an older or newer version still loads."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})
