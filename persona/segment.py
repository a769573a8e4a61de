"""Segmentation: personas plus orders and content events → segments, circles, cards, patterns.

The method's third step ("analysis") in one pure function, `run_segmentation`. It takes the
members' personas (built as of the run's `as_of`), their orders and content events, and gives
every member a value tier, a lifecycle stage, a motivation, a layer, dynamic tags that expire,
and an interest circle; then it turns each key segment into a persona card, mines shared
patterns, ranks the features that separate the segments and, when the previous run is given,
says what changed. Nothing here reads a clock, a file or a database: `as_of` and the data are
passed in, randomness is seeded, and members are processed in member-id order, so the same
input always gives the same JSON (that is what makes stored runs comparable).

Rules (thresholds are `SegmentParams` fields; defaults in brackets):

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
lifecycle (messages and orders are activity; content views are not, because a pushed article
    counts as a "view" and would hide churn)
    potential  never spoke and never ordered (known from the member list or content events);
    new        first activity at most `new_days` [14] days before `as_of` (inclusive);
    declining  last activity more than `declining_days` [30] days before `as_of`;
    mature     the rest. Same boundaries as `persona.persona.lifecycle_code`.
motivation
    per code the persona's motivation tag score (0..1); for price, coupon use is judged by its
    share of orders: with ≥ `coupon_min_orders` [2] orders and a coupon share ≥
    `coupon_min_share` [0.5], price gets `coupon_weight` [0.6] × share and the coupon orders
    count as evidence. A persona that already folded coupon orders into its price tag (its
    evidence holds order ids) is not counted twice, and a price tag made of coupon orders
    alone counts only through that share rule (two coupons in ten orders is no price
    sensitivity). The top code wins only with a score ≥ `motivation_min_score` [0.3], more
    than half of the summed score (a split gives null) and ≥ `motivation_min_evidence` [2]
    supporting messages or coupon orders (one passing "多少钱" gives null).
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

Scale: the members arrive as columns (`persona/columns.py`: from storage's SQL aggregates
and stored tags, or from per-member inputs) and become a `MemberTable` of numpy arrays; every rule
above is vectorised over it, clustering switches to a sample for choosing k and to
MiniBatchKMeans on large communities, and cards read a bounded, evenly spaced sample of each
segment for their text parts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from persona.commerce import CONTENT_TYPES, ContentEventRecord, OrderRecord
from persona.persona import (
    LAYER_LABELS,
    LIFECYCLE_LABELS,
    MOTIVATION_SEGMENT_LABELS,
    VALUE_LABELS,
    Persona,
    Tag,
)
from persona.signals import CONTENT_CODES, MOTIVATION_CODES

if TYPE_CHECKING:
    from persona.columns import MemberColumns

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
FORMAT_VERSION = 1
# A stored run (`SegmentResult.to_stored_json`): the summary without the per-member
# assignments, which live in storage's member_segment rows; dynamic tags kept for the members
# that have any.
STORED_FORMAT_VERSION = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
DAY = 86400.0


class SegmentError(ValueError):
    """Input or parameters that segmentation cannot use; the message names the field."""


@dataclass(frozen=True, slots=True)
class Quote:
    """One of a member's recent question/complaint/purchase/praise messages, kept verbatim so a
    persona card can show real evidence instead of paraphrase."""

    id: str
    ts: datetime
    text: str
    intents: tuple[str, ...]
    chat: str | None = None


@dataclass(frozen=True, slots=True)
class MemberInput:
    """Everything segmentation knows about one member, gathered by the caller."""

    persona: Persona
    orders: tuple[OrderRecord, ...] = ()
    events: tuple[ContentEventRecord, ...] = ()
    # names of the chats the member spoke in, most active first
    chats: tuple[str, ...] = ()
    # e.g. "邀请:小禾助手" or "二维码:小禾助手" when known
    join_channel: str | None = None
    # recent question/complaint/purchase/praise messages, newest first, at most ~10
    quotes: tuple[Quote, ...] = ()
    # content words from the member's messages, most frequent first
    keywords: tuple[str, ...] = ()


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
    coupon_weight: float = 0.6
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
    k_tolerance: float = 0.05  # the smallest k within this share of the best silhouette wins
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
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SegmentParams:
        """Known keys only, so a run stored by an older or newer version still loads."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass(frozen=True, slots=True)
class DynamicTag:
    """A short-lived fact ("asked recently", "bought 母婴用品 last week") with its expiry."""

    code: str
    label: str
    expires_at: datetime
    evidence: tuple[str, ...] = ()

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {"code": self.code, "label": self.label,
                "expires_at": self.expires_at.astimezone(tz).isoformat(timespec="seconds"),
                "evidence": list(self.evidence)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DynamicTag:
        return cls(data["code"], data["label"], datetime.fromisoformat(data["expires_at"]),
                   tuple(data.get("evidence", ())))

    def to_row(self) -> list[Any]:
        """The compact form a stored run keeps: [code, label, expiry in whole POSIX seconds,
        evidence]. `to_json` shows the expiry to the second, so nothing is lost; formatting a
        time per tag for a million members was most of storing a run's document."""
        return [self.code, self.label, (self.expires_at - _EPOCH) // _SECOND,
                list(self.evidence)]

    @classmethod
    def from_row(cls, row: Sequence[Any], tz: ZoneInfo) -> DynamicTag:
        code, label, expires, evidence = row
        return cls(code, label, datetime.fromtimestamp(expires, tz), tuple(evidence))


# --------------------------------------------------------------------------------------------
# The columnar member table


@dataclass(slots=True)
class MemberTable:
    """The members as columns, in member-id order, built in one pass and shared by every step.

    Ages are seconds before `as_of` (NaN when there is nothing), so every rule is a numpy
    comparison instead of a loop over per-member dicts.
    """

    ids: list[str]
    messages: np.ndarray  # int, all messages up to as_of
    recent_messages: np.ndarray  # int, last 30 days (from the persona's frequency tag)
    first_msg_age: np.ndarray
    last_msg_age: np.ndarray
    orders: np.ndarray  # int, orders up to as_of
    monetary: np.ndarray
    coupon_orders: np.ndarray
    first_order_age: np.ndarray
    last_order_age: np.ndarray
    recent_events: np.ndarray
    event_counts: np.ndarray  # n × len(CONTENT_TYPES)
    interest_codes: tuple[str, ...]
    interests: np.ndarray  # n × len(interest_codes), tag scores
    times: np.ndarray  # n × len(TIME_CODES), tag scores
    content: np.ndarray  # n × len(CONTENT_KINDS), content tag scores
    motivation: np.ndarray  # n × len(MOTIVATION_CODES), tag scores
    motivation_evidence: np.ndarray  # n × len(MOTIVATION_CODES), supporting chat messages
    price_from_orders: np.ndarray  # bool: the persona's price tag already counts coupon orders
    categories: tuple[str, ...]
    bought: np.ndarray  # n × len(categories), orders per category up to as_of
    attributes: dict[str, list[str | None]]
    dynamic: list[tuple[DynamicTag, ...]]
    labels: dict[str, str]  # code → Chinese label, gathered from the personas' tags
    # words that name nothing a circle or a need is about: GENERIC_WORDS and the members'
    # cities ("上海的朋友有吗" is no need for 上海)
    stop_words: frozenset[str] = frozenset()
    # each member's top keywords (rank order), as (row, word index into vocab) pairs
    kw_member: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    kw_word: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vocab: list[str] = field(default_factory=list)
    # rows → their text parts (quotes, chats, join channel, keywords), read for card samples
    # only, so the whole population never has to be held as objects
    details: Callable[[Sequence[int]], list[Any]] = field(
        default=lambda rows: [None] * len(rows))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def aov(self) -> np.ndarray:
        """Average order value per member (0 without orders)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.orders > 0, self.monetary / np.maximum(self.orders, 1), 0.0)

    def content_mask(self, j: int) -> np.ndarray:
        """Members with content preference CONTENT_KINDS[j]: a content tag, or for an event
        type any interaction of that type (whether or not the persona folded events in)."""
        mask = self.content[:, j] > 0
        code = CONTENT_KINDS[j]
        if code in CONTENT_TYPES:
            mask = mask | (self.event_counts[:, CONTENT_TYPES.index(code)] > 0)
        return mask

    @property
    def last_active_age(self) -> np.ndarray:
        """Seconds since the last message or order (NaN when neither)."""
        return np.fmin(self.last_msg_age, self.last_order_age)

    @property
    def first_active_age(self) -> np.ndarray:
        return np.fmax(self.first_msg_age, self.first_order_age)

    def label(self, code: str) -> str:
        return self.labels.get(code, code)


def _recent_messages(tag: Tag) -> int:
    """Messages in the last 30 days, read back from the persona's frequency tag.

    build_persona scores that tag min(1, recent / 30) (silent: 0 messages), so the count is
    exact below 30 and capped at 30 above, which is all the thresholds here need.
    """
    if tag.code == "silent":
        return 0
    return max(1, min(30, round(tag.score * 30)))


def tabulate(members: Sequence[MemberInput] | MemberColumns, as_of: datetime,
             params: SegmentParams, half_life_days: float = 30.0) -> MemberTable:
    """Members (per-member inputs or storage's columns) → the table every rule reads.

    Both shapes go through `persona.columns.table_from_columns`, so there is one builder.
    Orders and events after `as_of` are ignored.
    """
    from persona.columns import MemberColumns, columns_from_inputs, table_from_columns

    if as_of.tzinfo is None:
        raise SegmentError("as_of: 需要带时区的时间 (must be timezone-aware)")
    cols = members if isinstance(members, MemberColumns) else columns_from_inputs(members)
    return table_from_columns(cols, as_of, params, half_life_days)


# --------------------------------------------------------------------------------------------
# The rules, vectorised


def value_tiers(t: MemberTable, params: SegmentParams) -> np.ndarray:
    """high / growth / general per member (see the module docstring for the rule)."""
    tier = np.full(len(t), "general", dtype=object)
    buyers = t.orders > 0
    engaged = ((t.recent_messages >= params.engaged_messages)
               | (t.recent_events >= params.engaged_events))
    tier[buyers | engaged] = "growth"
    if buyers.any():
        spent = np.sort(t.monetary[buyers])
        rank = np.searchsorted(spent, t.monetary, side="right") / len(spent)
        with np.errstate(invalid="ignore"):
            fresh = t.last_order_age <= params.high_recency_days * DAY
        high = (buyers & (t.orders >= params.high_min_orders)
                & (rank >= params.high_quantile) & fresh)
        tier[high] = "high"
    return tier


def lifecycle_stages(t: MemberTable, params: SegmentParams) -> np.ndarray:
    """potential / new / mature / declining; orders count as activity, as messages do."""
    first = t.first_active_age
    last = t.last_active_age
    stage = np.full(len(t), "mature", dtype=object)
    with np.errstate(invalid="ignore"):
        stage[last > params.declining_days * DAY] = "declining"
        # same precedence as persona.lifecycle_code: new before declining (only matters when
        # new_days > declining_days)
        stage[first <= params.new_days * DAY] = "new"
    stage[np.isnan(first)] = "potential"
    return stage


def motivations(t: MemberTable, params: SegmentParams) -> np.ndarray:
    """price / quality / service, or None when the evidence is thin or split."""
    score = t.motivation.astype(np.float64)
    evidence = t.motivation_evidence.astype(np.float64)
    price = MOTIVATION_CODES.index("price")
    chat_price = evidence[:, price] > 0
    # A price tag built from coupon orders alone is replaced by the share rule below.
    score[:, price] = np.where(chat_price, score[:, price], 0.0)
    share = t.coupon_orders / np.maximum(t.orders, 1)
    eligible = (t.orders >= params.coupon_min_orders) & (share >= params.coupon_min_share)
    # ... and one whose chat score already includes the coupon orders gets no second helping.
    counted = chat_price & t.price_from_orders
    score[:, price] += np.where(eligible & ~counted, params.coupon_weight * share, 0.0)
    evidence[:, price] += np.where(eligible, t.coupon_orders, 0)
    top = np.argmax(score, axis=1) if len(t) else np.zeros(0, dtype=np.int64)
    rows = np.arange(len(t))
    top_score = score[rows, top]
    ok = ((top_score >= params.motivation_min_score)
          & (top_score > 0.5 * score.sum(axis=1))
          & (evidence[rows, top] >= params.motivation_min_evidence))
    codes = np.array(MOTIVATION_CODES, dtype=object)[top] if len(t) else np.zeros(0, object)
    out = np.full(len(t), None, dtype=object)
    out[ok] = codes[ok]
    return out


def layers(t: MemberTable, value: np.ndarray, lifecycle: np.ndarray,
           params: SegmentParams) -> np.ndarray:
    """core / ordinary (see the module docstring)."""
    core = ((value == "high") | (t.recent_messages >= params.core_messages)
            | ((t.orders >= 2) & (lifecycle != "declining")))
    return np.where(core, "core", "ordinary").astype(object)


# --------------------------------------------------------------------------------------------
# Result


@dataclass(slots=True)
class StoredAssignments:
    """Every member's codes of one run, in member-id order: what storage keeps as rows
    (`storage.segments.SegmentStore.assignments`) or an older document kept inline."""

    member_ids: list[str]
    value: list[str]
    lifecycle: list[str]
    motivation: list[str | None]
    layer: list[str]
    cluster: list[str | None]
    # only when the document carried them inline; else from its "dynamic_tags"
    dynamic_tags: list[tuple[DynamicTag, ...]] | None = None

    @classmethod
    def from_document(cls, assignments: Mapping[str, Mapping[str, Any]]) -> StoredAssignments:
        """The inline "assignments" of a `to_json` document (and runs stored before rows)."""
        ids = sorted(assignments)
        rows = [assignments[m] for m in ids]
        return cls(ids, [r["value"] for r in rows], [r["lifecycle"] for r in rows],
                   [r.get("motivation") for r in rows], [r["layer"] for r in rows],
                   [r.get("cluster") for r in rows],
                   [tuple(DynamicTag.from_json(d) for d in r.get("dynamic_tags", ()))
                    for r in rows])

    def document(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The `to_json` document of a stored run (`to_stored_json`) with these codes: every
        member's assignment inline, dynamic tags from the stored run's sparse ones."""
        doc = dict(stored)
        dynamic: Mapping[str, Any] = doc.pop("dynamic_tags", None) or {}
        tz = SegmentParams.from_json(doc.get("params")).tz
        doc["version"] = FORMAT_VERSION
        out: dict[str, dict[str, Any]] = {}
        for i, m in enumerate(self.member_ids):
            out[m] = {"value": self.value[i], "lifecycle": self.lifecycle[i],
                      "motivation": self.motivation[i], "layer": self.layer[i],
                      "cluster": self.cluster[i],
                      "dynamic_tags": [DynamicTag.from_row(r, tz).to_json(tz)
                                       for r in dynamic.get(m, ())]}
        doc["assignments"] = out
        return doc


@dataclass(slots=True)
class SegmentResult:
    """One segmentation run: per-member assignments (in member-id order) and the summaries.

    `to_json` is the `siyu segment --json` document; `from_json` reads a stored run back so it
    can be the `previous` of the next run.
    """

    as_of: datetime
    params: SegmentParams
    member_ids: list[str]
    value: list[str]
    lifecycle: list[str]
    motivation: list[str | None]
    layer: list[str]
    cluster: list[str | None]
    dynamic_tags: list[tuple[DynamicTag, ...]]
    circles: list[Any]  # persona.clusters.Circle
    clustering: dict[str, Any]
    cards: list[Any]  # persona.cards.PersonaCard
    patterns: list[dict[str, Any]]
    importance: dict[str, list[dict[str, Any]]]
    next_cluster_code: int
    changes: dict[str, Any] | None = None
    _index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def column(self, dimension: str) -> list[str | None]:
        """Codes of one dimension (value, lifecycle, motivation, layer, cluster)."""
        if dimension not in (*DIMENSIONS, "cluster"):
            raise SegmentError(f"dimension: 未知维度 {dimension!r} (unknown dimension)")
        return getattr(self, dimension)

    def counts(self) -> dict[str, dict[str, int]]:
        """Members per code for each dimension; every code listed, zeros included."""
        out: dict[str, dict[str, int]] = {}
        for dim, codes in (("value", VALUE_CODES), ("lifecycle", LIFECYCLE_CODES),
                           ("motivation", (*MOTIVATION_CODES, NONE_KEY)),
                           ("layer", LAYER_CODES)):
            # one Counter pass over the column (C speed) instead of an object array compared
            # once per code: a million members, 0.7 s; no code (None or "") counts as NONE_KEY
            seen = Counter(self.column(dim))
            unset = sum(k for c, k in seen.items() if not c)
            out[dim] = {c: seen.get(c, 0) + (unset if c == NONE_KEY else 0) for c in codes}
        return out

    def assignment(self, member_id: str) -> dict[str, Any] | None:
        """One member's segments and dynamic tags, or None when the member was not in the run."""
        if self._index is None:
            self._index = {m: i for i, m in enumerate(self.member_ids)}
        i = self._index.get(member_id)
        if i is None:
            return None
        return self._assignment(i)

    def members_in(self, code: str) -> list[str]:
        """Members holding a segment or circle code (codes are distinct across dimensions)."""
        for dim in (*DIMENSIONS, "cluster"):
            col = self.column(dim)
            hits = [m for m, c in zip(self.member_ids, col, strict=True) if c == code]
            if hits:
                return hits
        return []

    def _assignment(self, i: int) -> dict[str, Any]:
        tz = self.params.tz
        return {"value": self.value[i], "lifecycle": self.lifecycle[i],
                "motivation": self.motivation[i], "layer": self.layer[i],
                "cluster": self.cluster[i],
                "dynamic_tags": [d.to_json(tz) for d in self.dynamic_tags[i]]}

    def to_json(self) -> dict[str, Any]:
        """The `siyu segment --json` document: the summary and every member's assignment."""
        return {**self._summary(FORMAT_VERSION), "assignments": self._assignments()}

    def to_stored_json(self) -> dict[str, Any]:
        """The document a stored run keeps: the summary, and dynamic tags only for the members
        that have any. The codes of every member are stored as rows beside it (a million
        assignments inside the document were a third of a large run's time and its largest
        peak of memory); `from_json` takes them back as `StoredAssignments`."""
        dynamic = {m: [d.to_row() for d in dyn]
                   for m, dyn in zip(self.member_ids, self.dynamic_tags, strict=True) if dyn}
        return {**self._summary(STORED_FORMAT_VERSION), "dynamic_tags": dynamic}

    def _summary(self, version: int) -> dict[str, Any]:
        tz = self.params.tz
        labels = {dim: dict(lab) for dim, lab in SEGMENT_LABELS.items()}
        labels["cluster"] = {c.code: c.label for c in self.circles}
        return {
            "version": version,
            "as_of": self.as_of.astimezone(tz).isoformat(timespec="seconds"),
            "goal": self.params.goal,
            "goal_label": GOAL_LABELS[self.params.goal],
            "counts": self.counts(),
            "labels": labels,
            "clusters": [c.to_json() for c in self.circles],
            "clustering": dict(self.clustering),
            "cards": [c.to_json() for c in self.cards],
            "patterns": list(self.patterns),
            "importance": dict(self.importance),
            "changes": self.changes,
            "params": self.params.to_json(),
            "next_cluster_code": self.next_cluster_code,
        }

    def _assignments(self) -> dict[str, dict[str, Any]]:
        """Every member's assignment. Members without dynamic tags (most of them) share one
        dict per combination of codes: the JSON is the same, and a million members no longer
        mean a million dicts (the stored run and `to_json` were a third of a large run)."""
        shared: dict[tuple[Any, ...], dict[str, Any]] = {}
        out: dict[str, dict[str, Any]] = {}
        for i, (m, v, lc, mo, la, cl, dyn) in enumerate(zip(
                self.member_ids, self.value, self.lifecycle, self.motivation, self.layer,
                self.cluster, self.dynamic_tags, strict=True)):
            if dyn:
                out[m] = self._assignment(i)
                continue
            key = (v, lc, mo, la, cl)
            seg = shared.get(key)
            if seg is None:
                seg = shared[key] = {"value": v, "lifecycle": lc, "motivation": mo,
                                     "layer": la, "cluster": cl, "dynamic_tags": []}
            out[m] = seg
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], stored: StoredAssignments | None = None
                  ) -> SegmentResult:
        """A run: a `to_json` document, or a stored one (`to_stored_json`) with its members'
        codes as `stored`. Raises SegmentError naming the key when the document is unusable."""
        # Imported here: those modules build on this one's types, so they import it first.
        from persona.cards import PersonaCard
        from persona.clusters import Circle

        try:
            params = SegmentParams.from_json(doc.get("params"))
            as_of = datetime.fromisoformat(doc["as_of"])
            if "assignments" in doc or stored is None:
                stored = StoredAssignments.from_document(doc["assignments"])
            dynamic: Mapping[str, Any] = doc.get("dynamic_tags") or {}
            circles = [Circle.from_json(c) for c in doc.get("clusters", ())]
            codes = [c.code for c in circles] + list(stored.cluster)
            next_code = doc.get("next_cluster_code") or 1 + max(
                (int(c[1:]) for c in codes if c and c[1:].isdigit()), default=0)
            return cls(
                as_of=as_of, params=params, member_ids=list(stored.member_ids),
                value=list(stored.value), lifecycle=list(stored.lifecycle),
                motivation=list(stored.motivation), layer=list(stored.layer),
                cluster=list(stored.cluster),
                dynamic_tags=stored.dynamic_tags if stored.dynamic_tags is not None else [
                    tuple(DynamicTag.from_row(d, params.tz) for d in dynamic[m])
                    if m in dynamic else () for m in stored.member_ids],
                circles=circles, clustering=dict(doc.get("clustering") or {}),
                cards=[PersonaCard.from_json(c) for c in doc.get("cards", ())],
                patterns=list(doc.get("patterns", ())),
                importance=dict(doc.get("importance") or {}),
                next_cluster_code=int(next_code), changes=doc.get("changes"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SegmentError(f"segment run JSON: 无法读取 {exc} (unusable stored run)") from exc


def run_segmentation(members: Sequence[MemberInput] | MemberColumns | MemberTable,
                     as_of: datetime, params: SegmentParams,
                     previous: SegmentResult | None = None,
                     half_life_days: float = 30.0) -> SegmentResult:
    """Segment the community as of `as_of`; with `previous`, keep circle codes and say what
    changed (under `changes`).

    `members` may already be tabulated (`tabulate` with the same as_of, params and half-life):
    a caller holding a million members' columns can then drop them before the rest of the
    run, whose own arrays would otherwise sit on top of them."""
    # Imported here: those modules build on this one's types, so they import it first.
    from persona.cards import build_cards
    from persona.clusters import find_circles
    from persona.compare import compare_runs
    from persona.patterns import feature_importance, find_patterns

    table = (members if isinstance(members, MemberTable)
             else tabulate(members, as_of, params, half_life_days))
    value = value_tiers(table, params)
    lifecycle = lifecycle_stages(table, params)
    motivation = motivations(table, params)
    layer = layers(table, value, lifecycle, params)
    circles = find_circles(table, params, previous)
    segments = {"value": value, "lifecycle": lifecycle, "motivation": motivation,
                "layer": layer, "cluster": circles.assignment}
    cards = build_cards(table, segments, circles.circles, params)
    patterns = find_patterns(table, params)
    importance = feature_importance(table, segments, params)
    result = SegmentResult(
        as_of=as_of, params=params, member_ids=list(table.ids),
        value=value.tolist(), lifecycle=lifecycle.tolist(), motivation=motivation.tolist(),
        layer=layer.tolist(), cluster=circles.assignment.tolist(),
        dynamic_tags=list(table.dynamic), circles=circles.circles, clustering=circles.info,
        cards=cards, patterns=patterns, importance=importance,
        next_cluster_code=circles.next_code,
    )
    if previous is not None:
        result.changes = compare_runs(previous, result)
    return result
