"""Persona cards (用户画像卡片): each key segment as one concrete, named representative.

Managers act on people, not on percentages, so the method turns every key segment into a card:
a representative with a plausible name and role ("精打细算的宝妈 · 林悦"), typical age, city and
life stage, core needs and pain points backed by 2–3 real member quotes (text + message id),
goals and motivation, information sources and trusted channels, and a typical scene.

Rules:
- Cards are made for the value tiers, lifecycle stages and motivations that have members, and
  for every interest circle; an empty segment gets no card.
- The run's goal decides which segments lead (activate → new, potential; repurchase → high,
  growth, mature; winback → declining), the card order, and the `focus` figures each card
  shows first (e.g. repurchase: repeat rate, AOV, coupon share, days since the last order).
- Modes (age range, city, life stage …) count only members where the value is known, and say
  how many that was, so a mode of one is visibly thin.
- Needs and pain points are phrases as members write them (persona/phrases.py): "物流慢",
  "客服不回", "有没有大码" from their question / purchase and complaint quotes, counted once
  per member, each with the quote it came from; the card's quotes show those first, from
  different members first. They are read from at most `PHRASE_SAMPLE` members of the sample.
- The representative's name is derived from the segment code (a hash into surname and given-
  name tables), so it is the same every run; collisions inside one run are resolved in a
  fixed order. The given name follows the segment's dominant gender when one is clear.
- Counts and money come from the whole segment; the text parts (modes, quotes, channels) read an
  evenly spaced sample of at most `card_sample` members so a million-member run stays fast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from persona.card_names import card_role, name_cards
from persona.commerce import CONTENT_TYPES
from persona.member_table import MemberTable
from persona.persona import TIME_LABELS
from persona.phrases import needs, pains
from persona.phrases_lexicon import CATEGORY_LABELS
from persona.segment_params import (
    CONTENT_KIND_LABELS,
    CONTENT_KINDS,
    SEGMENT_LABELS,
    TIME_CODES,
    SegmentParams,
)
from persona.segment_result import Circle, PersonaCard
from persona.signals import MOTIVATION_CODES

# Which segments lead for each goal, in order.
GOAL_LEAD: dict[str, tuple[tuple[str, str], ...]] = {
    "activate": (("lifecycle", "new"), ("lifecycle", "potential")),
    "repurchase": (("value", "high"), ("value", "growth"), ("lifecycle", "mature")),
    "winback": (("lifecycle", "declining"),),
}
# Default order of the other cards; circles follow, largest first.
BASE_ORDER: tuple[tuple[str, str], ...] = (
    ("value", "high"), ("value", "growth"), ("value", "general"),
    ("lifecycle", "new"), ("lifecycle", "mature"), ("lifecycle", "declining"),
    ("lifecycle", "potential"),
    ("motivation", "price"), ("motivation", "quality"), ("motivation", "service"),
)
GOAL_FOCUS: dict[str, tuple[str, ...]] = {
    "activate": ("join_channel", "silent_share", "asked_recently", "top_interest",
                 "content_preference"),
    "repurchase": ("repeat_rate", "aov", "coupon_share", "days_since_order", "top_category"),
    "winback": ("days_since_active", "complained_recently", "top_category", "coupon_share",
                "main_chat"),
}
FOCUS_LABELS = {
    "join_channel": "主要入群渠道", "silent_share": "从未发言占比",
    "asked_recently": "近期提问人数",
    "top_interest": "最关注的话题", "content_preference": "偏好的内容形式",
    "repeat_rate": "复购率", "aov": "客单价(元)", "coupon_share": "用券订单占比",
    "days_since_order": "距上次下单(中位天数)", "top_category": "常买品类",
    "days_since_active": "距上次活跃(中位天数)", "complained_recently": "近期抱怨人数",
    "main_chat": "最常出现的群",
}
INTENT_LABELS = {"question": "提问", "complaint": "抱怨投诉", "purchase_intent": "购买意向",
                 "praise": "好评"}
NEED_INTENTS = ("question", "purchase_intent")
PAIN_INTENTS = ("complaint",)
# Members whose quotes a card reads for needs and pain points (≈ 1 ms a quote, ten quotes a
# member): enough to rank the common ones, bounded for a million-member run.
PHRASE_SAMPLE = 500
QUOTE_RANK = {"question": 0, "complaint": 1, "purchase_intent": 2, "praise": 3}
TIME_SCENE = {"morning": "早上", "daytime": "白天", "evening": "晚上", "late_night": "深夜"}

MOTIVATION_GOALS = {"price": "花更少的钱买到划算的好东西", "quality": "买到靠谱、品质过硬的东西",
                    "service": "有问题能及时找到人、售后省心"}
ATTRIBUTE_CARD_FIELDS = ("age_range", "city", "life_stage", "gender", "occupation")
# A typical value needs this many members behind it: one member's job is not the segment's
# ("随便逛逛的全职主妇/主夫" for 17 members, one of whom said what she does).
MODE_MIN_MEMBERS = 2
# A card speaks of the segment's motivation (its goal, its 目标与动机) only when at least this
# share of the segment has it, the share that gives its representative the adjective too: one
# price-sensitive member of six does not make 爱回购的宝妈 price-sensitive.
MOTIVATION_MIN_SHARE = 0.3


def _round(x: float | None, nd: int = 2) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def _sample(idx: np.ndarray, limit: int) -> np.ndarray:
    """An evenly spaced, deterministic subset: no randomness, no bias toward early ids."""
    if len(idx) <= limit:
        return idx
    return idx[np.unique(np.linspace(0, len(idx) - 1, limit).round().astype(np.int64))]


def _mode(values: Sequence[str | None]) -> tuple[str | None, int, int]:
    """(most common known value, its count, known count); ties go to the smaller value."""
    known = Counter(v for v in values if v)
    if not known:
        return None, 0, 0
    value, count = min(known.items(), key=lambda kv: (-kv[1], kv[0]))
    return value, count, sum(known.values())


def _top(counter: Counter[str], n: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


@dataclass(slots=True)
class _Group:
    """One need or pain point of a card: who wrote it, how, and the first quote of it."""

    category: str
    members: set[str] = field(default_factory=set)
    texts: Counter[str] = field(default_factory=Counter)
    quote: Any = None
    quote_member: str = ""

    def add(self, member_id: str, text: str, quote: Any) -> None:
        if member_id in self.members:
            return
        self.members.add(member_id)
        self.texts[text] += 1
        if self.quote is None:
            self.quote, self.quote_member = quote, member_id

    def text(self) -> str:
        """The wording most members used; ties: the shorter, then the first in order."""
        return min(self.texts.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0]


class _CardBuilder:
    """Shared, per-run state for building cards (table, segment columns, derived arrays)."""

    def __init__(self, t: MemberTable, segments: Mapping[str, np.ndarray],
                 params: SegmentParams) -> None:
        self.t = t
        self.segments = segments
        self.params = params
        self.n = len(t)
        self.last_active_days = t.last_active_age / 86400.0
        self.last_order_days = t.last_order_age / 86400.0
        self.asked = np.zeros(self.n, dtype=bool)
        self.complained = np.zeros(self.n, dtype=bool)
        for i, tags in enumerate(t.dynamic):
            if tags:  # most members have none
                codes = {d.code for d in tags}
                self.asked[i] = "recently_asked" in codes
                self.complained[i] = "recently_complained" in codes
        # member × content kind, computed once for every card
        self.content = (np.column_stack([t.content_mask(j) for j in range(len(CONTENT_KINDS))])
                        if self.n else np.zeros((0, len(CONTENT_KINDS)), dtype=bool))

    # ---- one card

    def card(self, dimension: str, code: str, label: str, idx: np.ndarray) -> PersonaCard:
        t, p = self.t, self.params
        sample = _sample(idx, p.card_sample)
        # text parts for the sample only: storage reads them for these members alone
        members = t.details(sample.tolist())
        profile = self._profile(sample)
        interests = self._interests(idx)
        motivation = self._motivation(idx)
        sample_ids = [t.ids[i] for i in sample.tolist()]
        # phrases cost a tokenisation per quote: read them from an evenly spaced part
        some = _sample(np.arange(len(sample_ids)), PHRASE_SAMPLE).tolist()
        member_needs, member_pains = self._needs([sample_ids[i] for i in some],
                                                 [members[i] for i in some])
        quotes = self._quotes(sample_ids, members,
                              {w["quote"]["id"] for w in member_needs + member_pains})
        channels = self._channels(sample, members)
        scene = self._scene(idx, sample, channels, interests)
        goals = []
        if motivation:
            goals.append(MOTIVATION_GOALS[motivation["code"]])
        if interests:
            goals.append(f"在「{interests[0]['label']}」上得到实用建议和好物推荐")
        if scene["categories"]:
            goals.append(f"稳定买到合适的{scene['categories'][0]['category']}")
        # most active first, then most orders; idx is in member-id order, so ties stay stable
        examples = idx[np.lexsort((-t.orders[idx], -t.recent_messages[idx]))[:3]].tolist()
        role = card_role(dimension, code, profile, motivation, interests)
        return PersonaCard(
            dimension=dimension, code=code, label=label, size=len(idx),
            share=round(len(idx) / self.n, 4) if self.n else 0.0, name="", role=role,
            persona_name="", focus=self._focus(idx, channels, interests, scene),
            profile=profile, interests=interests, needs=member_needs,
            pain_points=member_pains,
            quotes=quotes, goals=goals, motivation=motivation, channels=channels,
            scene=scene, example_members=[t.ids[i] for i in examples],
        )

    def _profile(self, sample: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fld in ATTRIBUTE_CARD_FIELDS:
            value, count, known = _mode([self.t.attributes[fld][i] for i in sample])
            out[fld] = None if value is None or count < MODE_MIN_MEMBERS else {
                "code": value,
                "label": self.t.labels.get(f"{fld}:{value}") or self.t.label(value),
                "share": round(count / known, 2), "known": known}
        return out

    def _interests(self, idx: np.ndarray) -> list[dict[str, Any]]:
        if not self.t.interest_codes or not len(idx):
            return []
        has = (self.t.interests[idx] >= self.params.interest_min_score).sum(axis=0)
        order = sorted(range(len(has)), key=lambda j: (-int(has[j]), self.t.interest_codes[j]))
        return [{"code": self.t.interest_codes[j], "label": self.t.label(self.t.interest_codes[j]),
                 "share": round(int(has[j]) / len(idx), 2)} for j in order[:3] if has[j] > 0]

    def _motivation(self, idx: np.ndarray) -> dict[str, Any] | None:
        col = self.segments["motivation"][idx]
        counts = Counter(c for c in col.tolist() if c)
        if not counts:
            return None
        code, count = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if count / len(idx) < MOTIVATION_MIN_SHARE:
            return None
        return {"code": code, "label": SEGMENT_LABELS["motivation"][code],
                "share": round(count / len(idx), 2),
                "counts": {c: counts.get(c, 0) for c in MOTIVATION_CODES}}

    def _needs(self, ids: Sequence[str], members: Sequence[Any]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Needs (from question and purchase quotes) and pain points (from complaint quotes)
        as the members put them, each counted once per member and shown with a quote."""
        need: dict[Any, _Group] = {}
        pain: dict[Any, _Group] = {}
        for member_id, m in zip(ids, members, strict=True):
            for q in m.quotes:
                intents = set(q.intents)
                if intents & set(PAIN_INTENTS):
                    for p in pains(q.text):
                        pain.setdefault(p.text, _Group(p.category)).add(member_id, p.text, q)
                if intents & set(NEED_INTENTS):
                    for p in needs(q.text):
                        # one product and concern, however it was asked: "大闸蟹多少钱一盒" and
                        # "大闸蟹什么价" are one need
                        key = (p.category, p.product) if p.product else p.text
                        need.setdefault(key, _Group(p.category)).add(member_id, p.text, q)
        return self._phrase_list(need), self._phrase_list(pain)

    def _phrase_list(self, groups: Mapping[Any, _Group]) -> list[dict[str, Any]]:
        tz = self.params.tz
        ranked = sorted(groups.values(), key=lambda g: (-len(g.members), g.text()))[:5]
        return [{"word": g.text(), "members": len(g.members), "category": g.category,
                 "category_label": CATEGORY_LABELS[g.category],
                 "quote": {"id": g.quote.id, "text": g.quote.text, "member_id": g.quote_member,
                           "chat": g.quote.chat,
                           "ts": g.quote.ts.astimezone(tz).isoformat(timespec="seconds")}}
                for g in ranked]

    def _quotes(self, ids: Sequence[str], members: Sequence[Any],
                first: Container[str]) -> list[dict[str, Any]]:
        """2–3 real quotes: those behind a top need or pain point first, then by intent and
        recency; one per member before any member is quoted twice."""
        tz = self.params.tz
        cands = []
        for member_id, m in zip(ids, members, strict=True):
            for q in m.quotes[:10]:
                intents = [i for i in q.intents if i in QUOTE_RANK]
                if not intents or not q.text.strip():
                    continue
                intent = min(intents, key=QUOTE_RANK.__getitem__)
                hit = q.id in first
                cands.append(((0 if hit else 1, QUOTE_RANK[intent], -q.ts.timestamp(), q.id),
                              member_id, intent, q))
        cands.sort(key=lambda c: c[0])
        chosen: list[tuple[str, str, Any]] = []
        used: set[str] = set()
        for pass_ in (0, 1):
            for _, member_id, intent, q in cands:
                if len(chosen) >= self.params.quotes_per_card:
                    break
                # the same words twice (a copied question) show nothing new
                if any(q.id == c[2].id or q.text.strip() == c[2].text.strip() for c in chosen):
                    continue
                if pass_ == 0 and member_id in used:
                    continue
                chosen.append((member_id, intent, q))
                used.add(member_id)
        return [{"id": q.id, "text": q.text, "intent": intent,
                 "intent_label": self.t.labels.get(intent, INTENT_LABELS[intent]),
                 "member_id": member_id, "chat": q.chat,
                 "ts": q.ts.astimezone(tz).isoformat(timespec="seconds")}
                for member_id, intent, q in chosen]

    def _channels(self, sample: np.ndarray, members: Sequence[Any]) -> dict[str, Any]:
        join = Counter(m.join_channel for m in members if m.join_channel)
        chats = Counter(c for m in members for c in dict.fromkeys(m.chats[:3]))
        t = self.t
        prefs = self.content[sample].sum(axis=0).tolist()
        ev_members = (t.event_counts[sample] > 0).sum(axis=0) if len(sample) else np.zeros(0)
        ev_total = t.event_counts[sample].sum(axis=0) if len(sample) else np.zeros(0)
        return {
            "join": [{"name": k, "members": v} for k, v in _top(join, 3)],
            "chats": [{"name": k, "members": v} for k, v in _top(chats, 3)],
            "content": sorted(
                ({"code": c, "label": t.label(c), "members": prefs[j]}
                 for j, c in enumerate(CONTENT_KINDS) if prefs[j] > 0),
                key=lambda d: (-d["members"], d["code"])),
            "content_events": sorted(
                ({"code": c, "label": CONTENT_KIND_LABELS[c], "members": int(ev_members[j]),
                  "events": int(ev_total[j])}
                 for j, c in enumerate(CONTENT_TYPES) if len(ev_members) and ev_members[j] > 0),
                key=lambda d: (-d["members"], d["code"])),
        }

    def _scene(self, idx: np.ndarray, sample: np.ndarray, channels: Mapping[str, Any],
               interests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        t = self.t
        times = t.times[sample].sum(axis=0) if len(sample) else np.zeros(len(TIME_CODES))
        active = TIME_CODES[int(np.argmax(times))] if times.max(initial=0) > 0 else None
        buyers = idx[t.orders[idx] > 0]
        cat_buyers = (t.bought[idx] > 0).sum(axis=0) if t.categories else np.zeros(0)
        cats = sorted(((t.categories[j], int(cat_buyers[j])) for j in range(len(cat_buyers))
                       if cat_buyers[j] > 0), key=lambda kv: (-kv[1], kv[0]))[:3]
        n_orders = int(t.orders[buyers].sum())
        aov = float(t.monetary[buyers].sum() / n_orders) if n_orders else None
        chats = [c["name"] for c in channels["chats"][:2]]
        parts = []
        if active:
            parts.append(TIME_SCENE[active])
        if chats:
            parts.append(f"常在「{chats[0]}」里")
        parts.append(f"聊{'、'.join(i['label'] for i in interests[:2])}" if interests
                     else "看看群消息")
        text = "".join(parts)
        if cats:
            text += f"；常买{'、'.join(c for c, _ in cats[:2])}"
            if aov is not None:
                text += f"，客单价约 {aov:.0f} 元"
        return {"active_time": active, "active_time_label": TIME_LABELS.get(active or ""),
                "chats": chats,
                "categories": [{"category": c, "buyers": b} for c, b in cats],
                "aov": _round(aov), "buyers": len(buyers), "text": text}

    def _focus(self, idx: np.ndarray, channels: Mapping[str, Any],
               interests: Sequence[Mapping[str, Any]],
               scene: Mapping[str, Any]) -> list[dict[str, Any]]:
        t = self.t
        buyers = idx[t.orders[idx] > 0]
        orders = int(t.orders[buyers].sum())
        active = self.last_active_days[idx]
        active = active[~np.isnan(active)]
        events = t.event_counts[idx].sum(axis=0) if len(idx) else np.zeros(len(CONTENT_TYPES))
        values: dict[str, Any] = {
            "join_channel": channels["join"][0]["name"] if channels["join"] else None,
            "silent_share": _round(float(np.mean(t.messages[idx] == 0))) if len(idx) else None,
            "asked_recently": int(self.asked[idx].sum()),
            "top_interest": interests[0]["label"] if interests else None,
            "content_preference": (CONTENT_KIND_LABELS[CONTENT_TYPES[int(np.argmax(events))]]
                                   if events.max(initial=0) > 0 else None),
            "repeat_rate": _round(float(np.mean(t.orders[buyers] >= 2))) if len(buyers) else None,
            "aov": scene["aov"],
            "coupon_share": _round(int(t.coupon_orders[buyers].sum()) / orders) if orders
            else None,
            "days_since_order": _round(float(np.median(self.last_order_days[buyers])), 1)
            if len(buyers) else None,
            "top_category": scene["categories"][0]["category"] if scene["categories"] else None,
            "days_since_active": _round(float(np.median(active)), 1) if len(active) else None,
            "complained_recently": int(self.complained[idx].sum()),
            "main_chat": channels["chats"][0]["name"] if channels["chats"] else None,
        }
        return [{"code": c, "label": FOCUS_LABELS[c], "value": values[c]}
                for c in GOAL_FOCUS[self.params.goal]]


def build_cards(t: MemberTable, segments: Mapping[str, np.ndarray], circles: Sequence[Circle],
                params: SegmentParams) -> list[PersonaCard]:
    """Cards for every non-empty key segment and circle, lead segments first (by goal)."""
    builder = _CardBuilder(t, segments, params)
    keys = list(BASE_ORDER) + [("cluster", c.code) for c in circles]
    circle_labels = {c.code: c.label for c in circles}
    cards: dict[tuple[str, str], PersonaCard] = {}
    for dim, code in keys:
        idx = np.flatnonzero(segments[dim] == code)
        if not len(idx):
            continue
        label = circle_labels[code] if dim == "cluster" else SEGMENT_LABELS[dim][code]
        cards[dim, code] = builder.card(dim, code, label, idx)

    name_cards(cards)

    lead = [k for k in GOAL_LEAD[params.goal] if k in cards]
    rest = [k for k in keys if k in cards and k not in lead]
    for k in lead:
        cards[k].lead = True
    return [cards[k] for k in lead + rest]
