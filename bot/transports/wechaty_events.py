"""Wechaty's objects → our events: a message becomes a `MessageEvent` (platform message id
kept, chat = room id or the other side's contact id, `is_self` for the bot's own echoes), a room
join one `JoinEvent` per invitee (channel "invite")."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from handlers.events import JoinEvent, MessageEvent, MessageType, stable_message_id

ORIGIN = "wechaty"

# Wechaty's message kinds (the gRPC enum names, as `Message.type()` returns them after the
# client's own mapping from the Node puppet's numbering) → our neutral kinds.
_TYPES: dict[str, MessageType] = {
    "MESSAGE_TYPE_TEXT": MessageType.TEXT,
    "MESSAGE_TYPE_IMAGE": MessageType.IMAGE,
    "MESSAGE_TYPE_AUDIO": MessageType.VOICE,
    "MESSAGE_TYPE_VIDEO": MessageType.VIDEO,
    "MESSAGE_TYPE_ATTACHMENT": MessageType.FILE,
    "MESSAGE_TYPE_EMOTICON": MessageType.STICKER,
    "MESSAGE_TYPE_URL": MessageType.LINK,
    "MESSAGE_TYPE_LOCATION": MessageType.LOCATION,
    "MESSAGE_TYPE_MINI_PROGRAM": MessageType.MINI_PROGRAM,
    "MESSAGE_TYPE_RED_ENVELOPE": MessageType.RED_PACKET,
    "MESSAGE_TYPE_TRANSFER": MessageType.TRANSFER,
    "MESSAGE_TYPE_CHAT_HISTORY": MessageType.FORWARD,
    "MESSAGE_TYPE_CONTACT": MessageType.CONTACT_CARD,
    "MESSAGE_TYPE_RECALLED": MessageType.RECALL,
}


def aware(timestamp: float | int | None) -> datetime:
    """Gateways send milliseconds (Node puppets) or seconds (older ones); 0 means unknown."""
    if not timestamp:
        return datetime.now(UTC)
    seconds = timestamp / 1000 if timestamp > 2_145_888_000 else timestamp
    return datetime.fromtimestamp(seconds, UTC)


async def translate_message(msg: Any, self_id: str | None) -> MessageEvent:
    """A ready `wechaty.Message` → `MessageEvent` (the platform message id is kept)."""
    payload = msg.payload
    talker = msg.talker()
    sender = talker.contact_id if talker is not None else payload.from_id
    room = msg.room()
    kind = _TYPES.get(getattr(msg.type(), "name", ""), MessageType.OTHER)
    is_self = self_id is not None and sender == self_id
    sender_name = talker.name if talker is not None else None
    if room is not None:
        chat, chat_name, is_group = room.room_id, await room.topic(), True
        with contextlib.suppress(Exception):
            # The member's group nickname (群昵称), as chat exports name senders.
            sender_name = (await room.alias(talker)) or sender_name
    else:
        # A private chat is named after the other side, also for the bot's own messages.
        partner = payload.to_id if is_self and payload.to_id else sender
        chat, is_group = partner, False
        chat_name = sender_name
        if partner != sender:
            other = msg.to()
            chat_name = other.name if other is not None else None
    return MessageEvent(
        id=msg.message_id,
        ts=aware(payload.timestamp),
        chat=chat,
        sender=sender,
        type=kind,
        text=msg.text() if kind is MessageType.TEXT else (msg.text() or None),
        chat_name=chat_name or None,
        is_group=is_group,
        sender_name=sender_name or None,
        mentions=tuple(payload.mention_ids or ()),
        is_self=is_self,
        origin=ORIGIN,
        raw={"message_id": msg.message_id, "type": int(payload.type),
             "room_id": payload.room_id, "talker_id": payload.from_id,
             "to_id": payload.to_id, "timestamp": payload.timestamp,
             "mention_ids": list(payload.mention_ids or ())},
    )

async def translate_join(room: Any, invitees: list[Any], inviter: Any | None,
                         ts: datetime) -> list[JoinEvent]:
    """One `JoinEvent` per invitee: who came in, by whose invitation."""
    topic = await room.topic()
    inviter_id = getattr(inviter, "contact_id", None) or None
    return [
        JoinEvent(
            id=stable_message_id(room.room_id, member.contact_id, ts, "room-join"),
            ts=ts,
            chat=room.room_id,
            member=member.contact_id,
            member_name=member.name or None,
            chat_name=topic or None,
            inviter=inviter_id,
            inviter_name=(inviter.name or None) if inviter_id else None,
            channel="invite" if inviter_id else None,
            origin=ORIGIN,
        )
        for member in invitees
    ]
