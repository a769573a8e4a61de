"""The persona model: tags, personas, their settings and labels, and the message record.

What a persona is and how it reads as JSON (DESIGN.md, "persona JSON"); how one is built
from a member's messages, orders and content events is persona/aggregate.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from persona.commerce import category_interests
from persona.segment_rules import MemberFacts, SegmentRules
from persona.signals import Signals

TAG_KINDS = (
    "interest", "frequency", "time", "content", "intent", "motivation",
    "attribute", "lifecycle", "value", "manual",
)
TIME_LABELS = {"morning": "早间活跃", "daytime": "白天活跃", "evening": "晚间活跃",
               "late_night": "深夜活跃"}
FREQUENCY_LABELS = {"highly_active": "高频活跃", "active": "活跃", "occasional": "偶尔发言",
                    "silent": "沉默"}
LIFECYCLE_LABELS = {"potential": "潜在用户", "new": "新用户", "mature": "成熟用户",
                    "declining": "衰退用户"}
VALUE_LABELS = {"high": "高价值", "growth": "成长型", "general": "一般用户"}
MOTIVATION_SEGMENT_LABELS = {"price": "价格敏感型", "quality": "品质追求型",
                             "service": "服务依赖型"}
JOIN_LABELS = {"invite": "邀请入群", "qrcode": "扫码入群", "unknown": "入群"}
LAYER_LABELS = {"core": "核心成员", "ordinary": "普通成员"}
GENDER_LABELS = {"female": "女", "male": "男"}
# Message types that say nothing about the member as a person.
SILENT_TYPES = frozenset({"system", "recall"})

SCORE_FLOOR = 0.1


@dataclass(frozen=True, slots=True)
class PersonaSettings:
    tz: ZoneInfo
    half_life_days: float = 30.0
    new_days: int = 14
    declining_days: int = 30
    intent_ttl_days: int = 30
    max_evidence: int = 5
    # the segment rules' thresholds beyond new/declining days (a `[segment]` override);
    # None: the defaults, with this persona's new_days and declining_days
    rules: SegmentRules | None = None
    # interest words learned from the community (persona/learned.py): word -> interest code
    learned: Mapping[str, str] = field(default_factory=dict)
    # the taxonomy's interest keywords (keyword -> codes), read in order categories
    # (persona/commerce.py: category_interests); empty: orders name no interest
    interest_keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # category label -> its interest codes, worked out once per label (a memo, not a setting)
    _by_category: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False,
                                                     repr=False)

    def category_codes(self, category: str) -> tuple[str, ...]:
        """`category_interests` of one order category, remembered: a rebuild meets the same
        few labels on every order."""
        codes = self._by_category.get(category)
        if codes is None:
            codes = self._by_category[category] = category_interests(category,
                                                                     self.interest_keywords)
        return codes

    @property
    def segment_rules(self) -> SegmentRules:
        if self.rules is not None:
            return self.rules
        return SegmentRules(new_days=self.new_days, declining_days=self.declining_days)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """What aggregation needs of one stored message."""

    id: str
    ts: datetime
    chat_id: str
    type: str
    signals: Signals


@dataclass(slots=True)
class Tag:
    code: str
    label: str
    kind: str
    score: float
    evidence: list[str] = field(default_factory=list)
    expires_at: datetime | None = None

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {
            "code": self.code, "label": self.label, "kind": self.kind,
            "score": round(self.score, 3), "evidence": list(self.evidence),
            "expires_at": iso(self.expires_at, tz),
        }


@dataclass(slots=True)
class Persona:
    member_id: str
    name: str
    tags: list[Tag]
    attributes: dict[str, str | None]
    segments: dict[str, str | None]
    stats: dict[str, Any]
    # what the segments were decided from, so a run's high tier can be applied by the same
    # rules (persona/segment_rules.py: member_segments); not part of the JSON
    facts: MemberFacts | None = None
    rules: SegmentRules | None = None

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The contract's persona object (DESIGN.md, "persona JSON")."""
        stats = dict(self.stats)
        for key in ("first_seen", "last_active"):
            stats[key] = iso(stats.get(key), tz)
        return {
            "member_id": self.member_id, "name": self.name,
            "tags": [t.to_json(tz) for t in self.tags],
            "attributes": dict(self.attributes), "segments": dict(self.segments),
            "stats": stats,
        }


def iso(ts: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO 8601 in the community's zone, so people read local times and machines get offsets."""
    return ts.astimezone(tz).isoformat(timespec="seconds") if ts else None


def time_bucket(ts: datetime, tz: ZoneInfo) -> str:
    """Time of day in the community's zone: 6–11 morning, 11–18 daytime, 18–23 evening."""
    hour = ts.astimezone(tz).hour
    if 6 <= hour < 11:
        return "morning"
    if 11 <= hour < 18:
        return "daytime"
    if 18 <= hour < 23:
        return "evening"
    return "late_night"


def saturate(weight: float) -> float:
    return 1.0 - math.exp(-weight / 2.0)
