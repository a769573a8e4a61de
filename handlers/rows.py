"""The rows business files become, as the importer sees them, and the small helpers both sides
share: the CSV reader (bot/sources/business.py) makes them, the importer
(handlers/business.py) resolves and stores them. Plain values, so neither imports the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from persona.commerce import ContentEventRecord

_PHONE_JUNK = re.compile(r"[\s\-().（）+]")


@dataclass(frozen=True, slots=True)
class OrderRow:
    origin: str
    member: str
    order_id: str
    ts: datetime
    amount: float
    category: str | None
    coupon_used: bool


@dataclass(frozen=True, slots=True)
class EventRow:
    origin: str
    member: str
    event: ContentEventRecord


@dataclass(frozen=True, slots=True)
class LinkRow:
    origin: str
    kind: str  # "external_id" or "phone"
    value: str  # phone numbers normalised by `normalize_phone`
    member: str


def normalize_phone(text: str) -> str | None:
    """Digits only, without a +86 / 0086 prefix; None when it cannot be a phone number.

    "138 0013 8000", "+86 138-0013-8000" and "13800138000" are one person. Excel's
    "1.38001E+10" is not a number anyone can call, so it is refused rather than guessed.
    """
    digits = _PHONE_JUNK.sub("", text.strip())
    if not digits.isdigit():
        return None
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
    return digits if 5 <= len(digits) <= 15 else None


def short(value: object, limit: int = 40) -> str:
    """repr() of a bad value, cut short so a reject reason stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
