"""Platform-neutral events: what every transport and file source turns its input into.

A file row from a ChatLab export, a WeChatMsg CSV line and a live Wechaty message all become
the same `MessageEvent`, so the ingest handler has exactly one path to get right (the design's
"one ingest path that live messages will also use"). Sources never reject silently: anything
they cannot turn into an event becomes a `Reject` naming the file, line and reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class MessageType(StrEnum):
    """Neutral message kinds; sources map their own numeric codes onto these."""

    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    STICKER = "sticker"
    LINK = "link"
    LOCATION = "location"
    MINI_PROGRAM = "mini_program"
    RED_PACKET = "red_packet"
    TRANSFER = "transfer"
    QUOTE = "quote"
    FORWARD = "forward"
    CONTACT_CARD = "contact_card"
    CALL = "call"
    SYSTEM = "system"
    RECALL = "recall"
    OTHER = "other"


def stable_message_id(chat: str, sender: str, ts: datetime, content: str | None) -> str:
    """The design's fallback identity for a message that carries no platform id.

    Hashing (chat, sender, whole-second UTC timestamp, content) makes re-importing the same
    export a no-op even when the exporter does not keep ids.
    """
    key = "\x1f".join((chat, sender, str(int(ts.timestamp())), content or ""))
    return "h:" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """One message, group or private, from any source."""

    id: str
    ts: datetime  # always timezone-aware
    chat: str
    sender: str
    type: MessageType
    text: str | None
    chat_name: str | None = None
    is_group: bool = False
    sender_name: str | None = None
    platform: str = "wechat"
    mentions: tuple[str, ...] = ()
    # The exporting/bot account's own message: stored nowhere, counted as skipped.
    is_self: bool = False
    # Where the event came from, for error messages: "file.json:12" or "live".
    origin: str = "live"
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)


_MESSAGE_FIELDS = tuple(MessageEvent.__dataclass_fields__)
_MESSAGE_SLOTS = tuple(getattr(MessageEvent, name).__set__ for name in _MESSAGE_FIELDS)


def message_event(id: str, ts: datetime, chat: str, sender: str, type: MessageType,
                  text: str | None, chat_name: str | None, is_group: bool,
                  sender_name: str | None, platform: str, mentions: tuple[str, ...],
                  is_self: bool, origin: str, raw: dict[str, Any] | None) -> MessageEvent:
    """`MessageEvent(...)` with every field given, for sources that build one per line.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`, looked up
    anew per field: 4 µs an event, 0.8 s of a 200k-line import. This fills the same slots
    directly; the event is the same (equal, hashable, immutable afterwards).
    """
    ev = object.__new__(MessageEvent)
    for put, value in zip(_MESSAGE_SLOTS, (id, ts, chat, sender, type, text, chat_name,
                                           is_group, sender_name, platform, mentions, is_self,
                                           origin, raw), strict=True):
        put(ev, value)
    return ev


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """A member declared by a source (ChatLab `members`), even one who never spoke."""

    platform_id: str
    name: str
    platform: str = "wechat"
    chat: str | None = None
    aliases: tuple[str, ...] = ()
    origin: str = "live"
    # "owner" / "admin" when the export says this person runs the group: staff, not a customer.
    staff_role: str | None = None


@dataclass(frozen=True, slots=True)
class JoinEvent:
    """Someone joined a group: the start of their "new" stage and their join channel."""

    id: str
    ts: datetime
    chat: str
    member: str
    member_name: str | None = None
    chat_name: str | None = None
    inviter: str | None = None
    inviter_name: str | None = None
    # How they came in: "invite" (by `inviter`), "qrcode" (scanned a code / 活码 shared by
    # `inviter`), or None when the platform does not say.
    channel: str | None = None
    platform: str = "wechat"
    origin: str = "live"


@dataclass(frozen=True, slots=True)
class Reject:
    """A line or row a source could not use, with a one-line reason for the operator."""

    origin: str  # "path" or "path:line"
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


SourceItem = MessageEvent | MemberInfo | Reject
