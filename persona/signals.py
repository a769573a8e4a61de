"""Per-message signals: what one message says about its sender, before any aggregation.

Signals are computed once, at ingest, from one tokenisation of the message, and stored with
the message in compact JSON. Personas are then aggregated from stored signals with time decay
as of any moment, so `--as-of` is reproducible and raw text can later be purged while the
derived evidence stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INTENT_CODES = ("question", "complaint", "purchase_intent", "praise")
MOTIVATION_CODES = ("price", "quality", "service")
CONTENT_CODES = ("link", "video", "image", "mini_program")
ATTRIBUTE_FIELDS = ("city", "age_range", "gender", "life_stage", "occupation")
# Stored complaint confidences are rounded to this many decimals: finer says nothing more about
# a chat line and costs bytes on every stored message.
COMPLAINT_DIGITS = 2


@dataclass(slots=True)
class Signals:
    """Everything a single message contributes; empty for stickers, system notices, etc."""

    # interest code -> strength of the hit in this message (keyword hits, usually 1.0 each)
    interests: dict[str, float] = field(default_factory=dict)
    # subset of INTENT_CODES, after negation and question handling
    intents: list[str] = field(default_factory=list)
    # motivation code -> strength
    motivations: dict[str, float] = field(default_factory=dict)
    # one of CONTENT_CODES when the message shares such content
    content: str | None = None
    # attribute field -> value (city name in Chinese, "25-34", "female", "parent", "teacher")
    attributes: dict[str, str] = field(default_factory=dict)
    # a few content words, for topics, circles and script templates
    keywords: list[str] = field(default_factory=list)
    # a join notice: {"channel": "invite" | "qrcode" | "unknown", "inviter": name}
    join: dict[str, str] | None = None
    # how sure the analyser is that this message is a complaint (0..1, COMPLAINT_DIGITS
    # decimals), for messages that voice an opinion; None where nothing was judged (questions,
    # orders, self-introductions, short chat) and on messages stored before it existed. The
    # complaint tag's score is a mean of these (persona/aggregate.py), not a count of flags.
    complaint: float | None = None

    def is_empty(self) -> bool:
        return not (
            self.interests
            or self.intents
            or self.motivations
            or self.content
            or self.attributes
            or self.keywords
            or self.join
            or self.complaint is not None
        )

    def to_json(self) -> dict[str, Any]:
        """Compact form for storage: short keys, empty parts left out."""
        out: dict[str, Any] = {}
        if self.interests:
            out["i"] = self.interests
        if self.intents:
            out["n"] = self.intents
        if self.motivations:
            out["m"] = self.motivations
        if self.content:
            out["c"] = self.content
        if self.attributes:
            out["a"] = self.attributes
        if self.keywords:
            out["k"] = self.keywords
        if self.join:
            out["j"] = self.join
        if self.complaint is not None:
            out["p"] = round(self.complaint, COMPLAINT_DIGITS)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Signals:
        if not data:
            return cls()
        return cls(
            interests=dict(data.get("i", {})),
            intents=list(data.get("n", [])),
            motivations=dict(data.get("m", {})),
            content=data.get("c"),
            attributes=dict(data.get("a", {})),
            keywords=list(data.get("k", [])),
            join=dict(data["j"]) if data.get("j") else None,
            complaint=float(data["p"]) if data.get("p") is not None else None,
        )
