"""What segmentation knows about the members: per-member inputs, and the table every rule reads.

`MemberInput` is one member as a caller gathers it (a persona, orders, events, text parts);
`MemberTable` is the whole community as numpy columns in member-id order, which
persona/tabulate.py builds and every step of a run (rules, circles, cards, patterns) reads.
`Detail` is a sampled member's text parts, loaded only for the members a card shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np

from persona.commerce import CONTENT_TYPES, ContentEventRecord, OrderRecord
from persona.persona import Persona, Tag
from persona.segment_params import CONTENT_KINDS

# Words per member that circles read (persona.clusters.KEYWORDS_PER_MEMBER).
POPULATION_KEYWORDS = 10
# Tag kinds segmentation reads; frequency, lifecycle, value and manual tags are recomputed.
TAG_KINDS_READ = ("interest", "time", "content", "motivation", "attribute", "intent")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


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


@dataclass(slots=True)
class MemberTable:
    """The members as columns, in member-id order, built in one pass and shared by every step.

    Ages are seconds before `as_of` (NaN when there is nothing), so every rule is a numpy
    comparison instead of a loop over per-member dicts.
    """

    ids: list[str]
    messages: np.ndarray  # int, all messages up to as_of
    recent_messages: np.ndarray  # int, last 30 days (from the persona's frequency tag)
    first_seen_age: np.ndarray  # first message or join notice (NaN when neither)
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
    price_evidence: np.ndarray  # int: the price tag's evidence ids, coupon orders included
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

    def label(self, code: str) -> str:
        return self.labels.get(code, code)


def recent_messages(tag: Tag) -> int:
    """Messages in the last 30 days, read back from the persona's frequency tag.

    build_persona scores that tag min(1, recent / 30) (silent: 0 messages), so the count is
    exact below 30 and capped at 30 above, which is all the thresholds here need.
    """
    if tag.code == "silent":
        return 0
    return max(1, min(30, round(tag.score * 30)))


class MemberDetail(Protocol):
    """What a persona card reads of one sampled member (MemberInput has all of it)."""

    chats: tuple[str, ...]
    join_channel: str | None
    quotes: tuple[Quote, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Detail:
    """A sampled member's text parts, loaded after segmentation for the cards only."""

    chats: tuple[str, ...] = ()
    join_channel: str | None = None
    quotes: tuple[Quote, ...] = ()
    keywords: tuple[str, ...] = ()


DetailLoader = Callable[[Sequence[int]], list[MemberDetail]]


def no_details(rows: Sequence[int]) -> list[MemberDetail]:
    return [Detail() for _ in rows]


def join_channel(join: Mapping[str, str] | None) -> str | None:
    """A join signal as cards show the channel: "邀请:小禾助手", "二维码:小禾助手", "入群"."""
    if not join:
        return None
    label = JOIN_CHANNEL_LABELS.get(join.get("channel", ""), "入群")
    inviter = join.get("inviter")
    return f"{label}:{inviter}" if inviter else label


JOIN_CHANNEL_LABELS = {"invite": "邀请", "qrcode": "二维码"}
