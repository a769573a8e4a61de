"""Persona aggregation: a member's stored per-message signals → scored, evidenced tags.

Pure and deterministic: the caller passes the messages, the moment to judge from (`as_of`)
and the settings. The same inputs always give the same persona, which is what makes
`--as-of` reproducible and ingest idempotent.

Scoring in one paragraph: each supporting message contributes its hit strength times a decay
weight 0.5 ** (age / half_life); the decayed sum w becomes a 0..1 score through
1 - exp(-w / 2), so one fresh mention scores about 0.4, three fresh mentions about 0.8, and a
single mention half a year old fades below the reporting floor. Evidence lists the ids of the
most recent supporting messages, newest first.

Business facts join the same scoring when given (`orders`, `events`; see persona/commerce.py):
an order paid with a coupon is one more decayed price cue whose evidence is the order id; each
content interaction (article / video / live) feeds the content tag of its type, evidence its
short event id; categories bought in the last 30 days become dynamic value tags
(`bought:<category>`) that expire 30 days after the last such order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from persona.commerce import (
    CONTENT_LABELS,
    COUPON_WEIGHT,
    PURCHASE_WEIGHT,
    RECENT_PURCHASE_DAYS,
    ContentEventRecord,
    OrderRecord,
    bought_code,
    bought_label,
    content_event_id,
    event_weight,
    order_stats,
    recent_purchases,
)
from persona.signals import ATTRIBUTE_FIELDS, Signals

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


class _Evidence:
    """Decayed weight plus the newest supporting message ids for one tag candidate."""

    __slots__ = ("ids", "latest", "weight")

    def __init__(self) -> None:
        self.weight = 0.0
        self.ids: list[tuple[datetime, str]] = []
        self.latest: datetime | None = None

    def add(self, weight: float, rec: MessageRecord) -> None:
        # `add_at` written out: this runs for every message of every member at each rebuild.
        ts = rec.ts
        self.weight += weight
        self.ids.append((ts, rec.id))
        if self.latest is None or ts > self.latest:
            self.latest = ts

    def add_at(self, weight: float, ts: datetime, evidence_id: str) -> None:
        """Support from anything with a time and an id: a message, an order, a content event."""
        self.weight += weight
        self.ids.append((ts, evidence_id))
        if self.latest is None or ts > self.latest:
            self.latest = ts

    def newest(self, n: int) -> list[str]:
        # The (time, id) pairs sort as themselves: no key function per pair.
        return [mid for _, mid in sorted(self.ids, reverse=True)[:n]]


def build_persona(
    member_id: str,
    name: str,
    records: Sequence[MessageRecord],
    as_of: datetime,
    settings: PersonaSettings,
    labels: Mapping[str, str],
    manual_tags: Iterable[Tag] = (),
    stats_extra: Mapping[str, Any] | None = None,
    *,
    orders: Sequence[OrderRecord] = (),
    events: Sequence[ContentEventRecord] = (),
) -> Persona:
    """Aggregate one member's messages, orders and content events into a persona as of `as_of`.

    Anything after `as_of` is ignored, so a past as-of sees the past. `stats.orders`,
    `stats.monetary` and `stats.aov` come from `orders`; `stats_extra` is only the fallback for
    callers that know the totals without the orders themselves.
    """
    recs = sorted((r for r in records if r.ts <= as_of and r.type not in SILENT_TYPES),
                  key=lambda r: (r.ts, r.id))
    past_orders = sorted((o for o in orders if o.ts <= as_of), key=lambda o: (o.ts, o.order_id))
    past_events = [e for e in events if e.ts <= as_of]
    half_life = settings.half_life_days * 86400.0
    n_ev = settings.max_evidence

    buckets: dict[tuple[str, str], _Evidence] = defaultdict(_Evidence)
    attr_votes: dict[str, dict[str, _Evidence]] = {f: defaultdict(_Evidence) for f in
                                                    ATTRIBUTE_FIELDS}
    tod: dict[str, _Evidence] = defaultdict(_Evidence)
    for rec in recs:
        age = (as_of - rec.ts).total_seconds()
        decay = 0.5 ** (age / half_life)
        # Who someone is (city, life stage) fades far slower than what they talk about: an old
        # self-disclosure still counts at least half; recency only settles conflicts (a move).
        stable = 0.5 + 0.5 * decay
        sig = rec.signals
        for code, hits in sig.interests.items():
            buckets["interest", code].add(hits * decay, rec)
        for code in sig.intents:
            buckets["intent", code].add(decay, rec)
        for code, hits in sig.motivations.items():
            buckets["motivation", code].add(hits * decay, rec)
        if sig.content:
            buckets["content", sig.content].add(decay, rec)
        for fld, value in sig.attributes.items():
            if fld in attr_votes:
                attr_votes[fld][value].add(stable, rec)
        tod[time_bucket(rec.ts, settings.tz)].add(decay, rec)

    # Behaviour outside the chat, decayed exactly like chat cues so old habits fade alike.
    for order in past_orders:
        if order.coupon_used:
            decay = 0.5 ** ((as_of - order.ts).total_seconds() / half_life)
            buckets["motivation", "price"].add_at(COUPON_WEIGHT * decay, order.ts,
                                                  order.order_id)
    for event in past_events:
        decay = 0.5 ** ((as_of - event.ts).total_seconds() / half_life)
        buckets["content", event.content_type].add_at(event_weight(event) * decay, event.ts,
                                                      content_event_id(event))

    tags: list[Tag] = []
    intent_ttl = timedelta(days=settings.intent_ttl_days)
    for (kind, code), ev in buckets.items():
        score = saturate(ev.weight)
        if score < SCORE_FLOOR:
            continue
        expires = None
        if kind == "intent":
            # "Recently asked / complained" is only true for a while.
            assert ev.latest is not None
            expires = ev.latest + intent_ttl
            if expires <= as_of:
                continue
        label = (CONTENT_LABELS.get(code) if kind == "content" else None) or labels.get(
            code, code)
        tags.append(Tag(code, label, kind, score, ev.newest(n_ev), expires))

    # "Bought category X recently": a dynamic tag that lapses 30 days after the last such order.
    window = timedelta(days=RECENT_PURCHASE_DAYS)
    for category, bought in recent_purchases(past_orders, as_of).items():
        weight = sum(PURCHASE_WEIGHT * 0.5 ** ((as_of - o.ts).total_seconds() / half_life)
                     for o in bought)
        tags.append(Tag(bought_code(category), bought_label(category), "value",
                        saturate(weight), [o.order_id for o in bought[:n_ev]],
                        bought[0].ts + window))

    attributes: dict[str, str | None] = dict.fromkeys(ATTRIBUTE_FIELDS)
    for fld, votes in attr_votes.items():
        if not votes:
            continue
        total = sum(v.weight for v in votes.values())
        value, ev = max(votes.items(), key=lambda kv: (kv[1].weight, kv[0]))
        # One plain self-disclosure ("坐标合肥") is about an even bet; two make it likely.
        score = (1.0 - math.exp(-0.7 * ev.weight)) * (ev.weight / total if total else 0.0)
        if score < SCORE_FLOOR:
            continue
        attributes[fld] = value
        tags.append(Tag(f"{fld}:{value}", _attribute_label(fld, value, labels), "attribute",
                        score, ev.newest(n_ev)))

    # Time of day: the bucket(s) holding a clear share of this member's recent messages.
    tod_total = sum(e.weight for e in tod.values())
    if len(recs) >= 3 and tod_total > 0:
        for code, ev in tod.items():
            share = ev.weight / tod_total
            if share >= 0.4:
                tags.append(Tag(code, TIME_LABELS[code], "time", share, ev.newest(n_ev)))

    # A join notice starts the member's "new" stage even before their first word, and says
    # how they came in (invited by someone, or a QR code / 活码 someone shared).
    joins = sorted((r for r in records if r.ts <= as_of and r.signals.join),
                   key=lambda r: (r.ts, r.id))
    if joins:
        last_join = joins[-1]
        join = last_join.signals.join or {}
        channel = join.get("channel", "unknown")
        inviter = join.get("inviter")
        label = JOIN_LABELS.get(channel, "入群") + (f"（{inviter}）" if inviter else "")
        tags.append(Tag(f"join:{channel}", label, "attribute", 1.0, [last_join.id]))
    first_seen = min([t for t in (recs[0].ts if recs else None,
                                  joins[0].ts if joins else None) if t], default=None)
    last_active = recs[-1].ts if recs else None
    recent_cut = as_of - timedelta(days=30)
    recent = [r for r in recs if r.ts > recent_cut]
    freq = frequency_code(len(recent))
    tags.append(Tag(freq, FREQUENCY_LABELS[freq], "frequency",
                    1.0 if freq == "silent" else min(1.0, len(recent) / 30.0),
                    [r.id for r in reversed(recent[-n_ev:])]))

    lifecycle = lifecycle_code(first_seen, last_active, as_of, settings)
    lifecycle_ev = [recs[-1].id] if lifecycle == "declining" and recs else (
        [recs[0].id] if recs else [joins[0].id] if joins else [])
    tags.append(Tag(lifecycle, LIFECYCLE_LABELS[lifecycle], "lifecycle", 1.0, lifecycle_ev))

    if past_orders or stats_extra is None:
        spend = order_stats(past_orders)
    else:
        count = int(stats_extra.get("orders", 0))
        monetary = float(stats_extra.get("monetary", 0.0))
        spend = {"orders": count, "monetary": monetary,
                 "aov": round(monetary / count, 2) if count else 0.0}
    value = "general"  # refined by segmentation from orders; without orders never "high"
    tags.append(Tag(value, VALUE_LABELS[value], "value", 1.0, []))

    now_manual = [t for t in manual_tags if t.expires_at is None or t.expires_at > as_of]
    tags.extend(now_manual)
    kind_rank = {k: i for i, k in enumerate(TAG_KINDS)}
    tags.sort(key=lambda t: (-round(t.score, 6), kind_rank.get(t.kind, 99), t.code))

    segments: dict[str, str | None] = {
        "value": value,
        "lifecycle": lifecycle,
        "motivation": dominant_motivation(buckets),
        "cluster": None,
        "layer": "core" if freq in ("highly_active", "active") else "ordinary",
    }
    stats = {
        "messages": len(recs),
        "first_seen": first_seen,
        "last_active": last_active,
        "orders": int(spend["orders"]),
        "monetary": float(spend["monetary"]),
        "aov": float(spend["aov"]),
    }
    return Persona(member_id, name, tags, attributes, segments, stats)


def frequency_code(messages_last_30_days: int) -> str:
    if messages_last_30_days >= 30:
        return "highly_active"
    if messages_last_30_days >= 8:
        return "active"
    if messages_last_30_days >= 1:
        return "occasional"
    return "silent"


def lifecycle_code(first_seen: datetime | None, last_active: datetime | None,
                   as_of: datetime, settings: PersonaSettings) -> str:
    """new: first seen (a join or a first word) within N days; potential: known but never
    spoke otherwise; declining: silent for M days; mature: the rest."""
    if first_seen is not None and as_of - first_seen <= timedelta(days=settings.new_days):
        return "new"
    if first_seen is None or last_active is None:
        return "potential"
    if as_of - last_active > timedelta(days=settings.declining_days):
        return "declining"
    return "mature"


def dominant_motivation(buckets: Mapping[tuple[str, str], _Evidence]) -> str | None:
    """The member's main motivation, or None when the evidence is thin or split.

    Needs at least two supporting messages and more than half of the decayed weight, so one
    passing "多少钱" does not make anyone price-sensitive.
    """
    mot = {code: ev for (kind, code), ev in buckets.items() if kind == "motivation"}
    total = sum(ev.weight for ev in mot.values())
    if not mot or total <= 0:
        return None
    code, ev = max(mot.items(), key=lambda kv: (kv[1].weight, kv[0]))
    if len(ev.ids) >= 2 and ev.weight / total > 0.5 and saturate(ev.weight) >= 0.3:
        return code
    return None


def _attribute_label(fld: str, value: str, labels: Mapping[str, str]) -> str:
    if fld == "city":
        return value
    if fld == "age_range":
        return f"{value}岁"
    if fld == "gender":
        return GENDER_LABELS.get(value, value)
    return labels.get(value, value)
