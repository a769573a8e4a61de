"""Persona aggregation: a member's stored per-message signals → scored, evidenced tags.

Pure and deterministic: the caller passes the messages, the moment to judge from (`as_of`)
and the settings. The same inputs always give the same persona, which is what makes
`--as-of` reproducible and ingest idempotent.

Scoring in one paragraph: each supporting message contributes its hit strength times a decay
weight 0.5 ** (age / half_life); the decayed sum w becomes a 0..1 score through
1 - exp(-w / 2), so one fresh mention scores about 0.4, three fresh mentions about 0.8, and a
single mention half a year old fades below the reporting floor (the complaint tag is a mean
of confidences instead: persona/complaint.py). Evidence lists the ids of the
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from persona.commerce import (
    CONTENT_LABELS,
    COUPON_WEIGHT,
    ORDER_INTEREST_WEIGHT,
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
from persona.complaint import MEAN_SCORED, ComplaintMean, complaint_tag
from persona.learned import learned_hits
from persona.persona import (
    FREQUENCY_LABELS,
    GENDER_LABELS,
    JOIN_LABELS,
    LIFECYCLE_LABELS,
    SCORE_FLOOR,
    SILENT_TYPES,
    TAG_KINDS,
    TIME_LABELS,
    VALUE_LABELS,
    MessageRecord,
    Persona,
    PersonaSettings,
    Tag,
    saturate,
    time_bucket,
)
from persona.segment_rules import (
    MOTIVATIONS,
    MemberFacts,
    SegmentRules,
    member_segments,
)
from persona.signals import ATTRIBUTE_FIELDS


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

    In steps: gather decayed support per tag candidate (messages, then orders and content
    events), turn it into scored tags (signals, recent purchases, attributes, time of day),
    add the activity tags (join, frequency, lifecycle) and the spend, then order the tags.
    """
    recs = sorted((r for r in records if r.ts <= as_of and r.type not in SILENT_TYPES),
                  key=lambda r: (r.ts, r.id))
    past_orders = sorted((o for o in orders if o.ts <= as_of), key=lambda o: (o.ts, o.order_id))
    past_events = [e for e in events if e.ts <= as_of]
    half_life = settings.half_life_days * 86400.0
    n_ev = settings.max_evidence

    intent_window = as_of - timedelta(days=settings.intent_ttl_days)
    support = _message_support(recs, as_of, half_life, settings.tz, settings.learned,
                               intent_window)
    _business_support(support.buckets, past_orders, past_events, as_of, half_life,
                      settings.category_codes)
    tags = _signal_tags(support.buckets, as_of, settings, labels, support.complaint)
    tags.extend(_bought_tags(past_orders, as_of, half_life, n_ev))
    attributes = _attribute_tags(support.attr_votes, labels, n_ev, tags)
    tags.extend(_time_tags(support.tod, len(recs), n_ev))
    activity = _activity(records, recs, as_of, settings, tags)
    spend = _spend(past_orders, stats_extra)
    rules = settings.segment_rules
    facts = _segment_facts(activity, recs, past_orders, past_events, as_of, tags,
                           int(spend["orders"]), rules)
    decided = member_segments(facts, rules)
    tags.append(_lifecycle_tag(str(decided["lifecycle"]), recs, activity))
    # "high" is relative to the other buyers: a segmentation run decides it
    # (handlers/personas.py: apply_run_segments), so here the tier is growth or general
    value = str(decided["value"])
    tags.append(Tag(value, VALUE_LABELS[value], "value", 1.0, []))

    now_manual = [t for t in manual_tags if t.expires_at is None or t.expires_at > as_of]
    tags.extend(now_manual)
    kind_rank = {k: i for i, k in enumerate(TAG_KINDS)}
    tags.sort(key=lambda t: (-round(t.score, 6), kind_rank.get(t.kind, 99), t.code))

    segments: dict[str, str | None] = {
        "value": value,
        "lifecycle": decided["lifecycle"],
        "motivation": decided["motivation"],
        "cluster": None,
        "layer": decided["layer"],
    }
    stats = {
        "messages": len(recs),
        "first_seen": activity.first_seen,
        "last_active": recs[-1].ts if recs else None,
        "orders": int(spend["orders"]),
        "monetary": float(spend["monetary"]),
        "aov": float(spend["aov"]),
    }
    return Persona(member_id, name, tags, attributes, segments, stats, facts, rules)


class _Support(NamedTuple):
    """Decayed support gathered from one member's messages, per tag candidate."""

    buckets: dict[tuple[str, str], _Evidence]  # (kind, code) → support
    attr_votes: dict[str, dict[str, _Evidence]]  # attribute field → value → support
    tod: dict[str, _Evidence]  # time-of-day bucket → support
    complaint: ComplaintMean  # the complaint tag's score (persona/complaint.py)


def _message_support(recs: Sequence[MessageRecord], as_of: datetime, half_life: float,
                     tz: ZoneInfo, learned: Mapping[str, str],
                     intent_window: datetime) -> _Support:
    """One pass over the member's messages (the rebuild's inner loop: kept in one place);
    words learned from the community (persona/learned.py) are interest hits too, and judged
    messages after `intent_window` can carry a complaint tag without a flag."""
    buckets: dict[tuple[str, str], _Evidence] = defaultdict(_Evidence)
    attr_votes: dict[str, dict[str, _Evidence]] = {f: defaultdict(_Evidence) for f in
                                                    ATTRIBUTE_FIELDS}
    tod: dict[str, _Evidence] = defaultdict(_Evidence)
    complaint = ComplaintMean(intent_window)
    for rec in recs:
        age = (as_of - rec.ts).total_seconds()
        decay = 0.5 ** (age / half_life)
        # Who someone is (city, life stage) fades far slower than what they talk about: an old
        # self-disclosure still counts at least half; recency only settles conflicts (a move).
        stable = 0.5 + 0.5 * decay
        sig = rec.signals
        for code, hits in sig.interests.items():
            buckets["interest", code].add(hits * decay, rec)
        if learned and sig.keywords:
            for code, hits in learned_hits(sig.keywords, learned).items():
                buckets["interest", code].add(hits * decay, rec)
        for code in sig.intents:
            buckets["intent", code].add(decay, rec)
        complaint.add(decay, rec)
        for code, hits in sig.motivations.items():
            buckets["motivation", code].add(hits * decay, rec)
        if sig.content:
            buckets["content", sig.content].add(decay, rec)
        for fld, value in sig.attributes.items():
            if fld in attr_votes:
                attr_votes[fld][value].add(stable, rec)
        tod[time_bucket(rec.ts, tz)].add(decay, rec)
    return _Support(buckets, attr_votes, tod, complaint)


def _business_support(buckets: dict[tuple[str, str], _Evidence],
                      past_orders: Sequence[OrderRecord],
                      past_events: Sequence[ContentEventRecord], as_of: datetime,
                      half_life: float,
                      category_codes: Callable[[str], tuple[str, ...]]) -> None:
    """Behaviour outside the chat, decayed exactly like chat cues so old habits fade alike:
    a coupon is a price cue, an order of a category that names an interest a mention of it."""
    for order in past_orders:
        decay = 0.5 ** ((as_of - order.ts).total_seconds() / half_life)
        if order.coupon_used:
            buckets["motivation", "price"].add_at(COUPON_WEIGHT * decay, order.ts,
                                                  order.order_id)
        if order.category:
            for code in category_codes(order.category):
                buckets["interest", code].add_at(ORDER_INTEREST_WEIGHT * decay, order.ts,
                                                 order.order_id)
    for event in past_events:
        decay = 0.5 ** ((as_of - event.ts).total_seconds() / half_life)
        buckets["content", event.content_type].add_at(event_weight(event) * decay, event.ts,
                                                      content_event_id(event))


def _signal_tags(buckets: Mapping[tuple[str, str], _Evidence], as_of: datetime,
                 settings: PersonaSettings, labels: Mapping[str, str],
                 complaint: ComplaintMean) -> list[Tag]:
    """Interest, intent, motivation and content tags that reach the reporting floor; the
    complaint tag is persona/complaint.py's (`complaint_tag`)."""
    tags: list[Tag] = []
    intent_ttl = timedelta(days=settings.intent_ttl_days)
    for (kind, code), ev in buckets.items():
        if (kind, code) == MEAN_SCORED:
            continue
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
        tags.append(Tag(code, label, kind, score, ev.newest(settings.max_evidence), expires))
    flagged = buckets.get(MEAN_SCORED)
    tag = complaint_tag(flagged.latest if flagged else None,
                        flagged.newest(settings.max_evidence) if flagged else [], complaint,
                        as_of, intent_ttl, settings.max_evidence,
                        labels.get(MEAN_SCORED[1], MEAN_SCORED[1]))
    if tag is not None:
        tags.append(tag)
    return tags


def _bought_tags(past_orders: Sequence[OrderRecord], as_of: datetime, half_life: float,
                 n_ev: int) -> list[Tag]:
    """"Bought category X recently": a dynamic tag that lapses 30 days after the last such
    order."""
    window = timedelta(days=RECENT_PURCHASE_DAYS)
    tags: list[Tag] = []
    for category, bought in recent_purchases(past_orders, as_of).items():
        weight = sum(PURCHASE_WEIGHT * 0.5 ** ((as_of - o.ts).total_seconds() / half_life)
                     for o in bought)
        tags.append(Tag(bought_code(category), bought_label(category), "value",
                        saturate(weight), [o.order_id for o in bought[:n_ev]],
                        bought[0].ts + window))
    return tags


def _attribute_tags(attr_votes: Mapping[str, Mapping[str, _Evidence]],
                    labels: Mapping[str, str], n_ev: int, tags: list[Tag]
                    ) -> dict[str, str | None]:
    """The leading value per attribute field, when its support is clear enough; its tag is
    appended to `tags`."""
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
    return attributes


def _time_tags(tod: Mapping[str, _Evidence], messages: int, n_ev: int) -> list[Tag]:
    """Time of day: the bucket(s) holding a clear share of this member's recent messages."""
    tod_total = sum(e.weight for e in tod.values())
    if messages < 3 or tod_total <= 0:
        return []
    tags: list[Tag] = []
    for code, ev in tod.items():
        share = ev.weight / tod_total
        if share >= 0.4:
            tags.append(Tag(code, TIME_LABELS[code], "time", share, ev.newest(n_ev)))
    return tags


class _Activity(NamedTuple):
    first_seen: datetime | None  # the first message or join notice
    first_join_id: str | None
    recent: int  # messages in the last 30 days


def _activity(records: Sequence[MessageRecord], recs: Sequence[MessageRecord],
              as_of: datetime, settings: PersonaSettings, tags: list[Tag]) -> _Activity:
    """When the member arrived and how often they speak; the join and frequency tags are
    appended to `tags`."""
    n_ev = settings.max_evidence
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
    recent_cut = as_of - timedelta(days=30)
    recent = [r for r in recs if r.ts > recent_cut]
    freq = frequency_code(len(recent))
    tags.append(Tag(freq, FREQUENCY_LABELS[freq], "frequency",
                    1.0 if freq == "silent" else min(1.0, len(recent) / 30.0),
                    [r.id for r in reversed(recent[-n_ev:])]))
    return _Activity(first_seen, joins[0].id if joins else None, len(recent))


def _segment_facts(activity: _Activity, recs: Sequence[MessageRecord],
                   past_orders: Sequence[OrderRecord],
                   past_events: Sequence[ContentEventRecord], as_of: datetime,
                   tags: Sequence[Tag], orders: int, rules: SegmentRules) -> MemberFacts:
    """What the segment rules read of this member, in the shape segmentation's columns
    give it (persona/tabulate.py), so both decide from the same numbers."""
    def age(ts: datetime | None) -> float:
        return (as_of - ts).total_seconds() if ts is not None else math.nan

    events_cut = rules.recent_days * 86400.0
    order_ids = {o.order_id for o in past_orders}
    score = dict.fromkeys(MOTIVATIONS, 0.0)
    chat = dict.fromkeys(MOTIVATIONS, 0)
    price_evidence = 0
    for t in tags:
        if t.kind == "motivation" and t.code in score:
            score[t.code] = t.score
            chat[t.code] = sum(1 for e in t.evidence if e not in order_ids)
            if t.code == "price":
                price_evidence = len(t.evidence)
    return MemberFacts(
        first_age=age(activity.first_seen), last_age=age(recs[-1].ts if recs else None),
        recent_messages=activity.recent,
        recent_events=sum(1 for e in past_events if age(e.ts) <= events_cut),
        orders=orders, coupon_orders=sum(1 for o in past_orders if o.coupon_used),
        motivation=(score["price"], score["quality"], score["service"]),
        motivation_chat=(chat["price"], chat["quality"], chat["service"]),
        price_evidence=price_evidence)


def _lifecycle_tag(lifecycle: str, recs: Sequence[MessageRecord], activity: _Activity
                   ) -> Tag:
    """The stage with its evidence: the last message when declining, else the first fact."""
    if lifecycle == "declining" and recs:
        evidence = [recs[-1].id]
    elif recs:
        evidence = [recs[0].id]
    else:
        evidence = [activity.first_join_id] if activity.first_join_id else []
    return Tag(lifecycle, LIFECYCLE_LABELS[lifecycle], "lifecycle", 1.0, evidence)


def _spend(past_orders: Sequence[OrderRecord], stats_extra: Mapping[str, Any] | None
           ) -> Mapping[str, Any]:
    """Orders, money and AOV: from the orders, else from a caller's totals."""
    if past_orders or stats_extra is None:
        return order_stats(past_orders)
    count = int(stats_extra.get("orders", 0))
    monetary = float(stats_extra.get("monetary", 0.0))
    return {"orders": count, "monetary": monetary,
            "aov": round(monetary / count, 2) if count else 0.0}


def frequency_code(messages_last_30_days: int) -> str:
    if messages_last_30_days >= 30:
        return "highly_active"
    if messages_last_30_days >= 8:
        return "active"
    if messages_last_30_days >= 1:
        return "occasional"
    return "silent"


def _attribute_label(fld: str, value: str, labels: Mapping[str, str]) -> str:
    if fld == "city":
        return value
    if fld == "age_range":
        return f"{value}岁"
    if fld == "gender":
        return GENDER_LABELS.get(value, value)
    return labels.get(value, value)
