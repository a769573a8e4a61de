"""ChatLab items → neutral events: the one message and member builder both encodings
(JSONL, JSON; bot/sources/chatlab.py) share, and the chat an item belongs to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.sources.common import (
    MAX_ID_CHARS,
    BadItem,
    checked_id,
    clean_text,
    epoch,
    short,
)
from handlers.events import (
    MemberInfo,
    MessageEvent,
    MessageType,
    Reject,
    message_event,
    stable_message_id,
)

# ChatLab type numbers. 24 ("share": music, mini program …) is split on its content below.
TYPES: dict[int, MessageType] = {
    0: MessageType.TEXT,
    1: MessageType.IMAGE,
    2: MessageType.VOICE,
    3: MessageType.VIDEO,
    4: MessageType.FILE,
    5: MessageType.STICKER,
    7: MessageType.LINK,
    8: MessageType.LOCATION,
    20: MessageType.RED_PACKET,
    21: MessageType.TRANSFER,
    22: MessageType.OTHER,  # poke / 拍一拍
    23: MessageType.CALL,
    24: MessageType.LINK,
    25: MessageType.QUOTE,
    26: MessageType.FORWARD,
    27: MessageType.CONTACT_CARD,
    80: MessageType.SYSTEM,
    81: MessageType.RECALL,
    99: MessageType.OTHER,
}
_SHARE = 24


@dataclass(frozen=True, slots=True)
class Chat:
    """What every item of one ChatLab chat shares, worked out once from its `meta`."""

    id: str
    name: str | None
    is_group: bool
    platform: str
    owner: str | None  # meta.ownerId: the exporting account, whose messages are is_self


def _text(obj: dict[str, Any], key: str) -> str | None:
    """An optional name-like field: non-empty string (numbers tolerated), else None."""
    value = obj.get(key)
    if isinstance(value, str):
        value = clean_text(value.strip())
        return value or None
    if type(value) is int:
        return str(value)
    return None


def chat_from(path: Path, top: dict[str, Any] | None) -> Chat:
    """The chat described by a header line / top-level JSON object (None: there was none).

    Without `meta.groupId` the id is a hash of platform, type and name, so the same export
    re-imported (or a later export of the same chat) lands in the same chat.
    """
    meta = top.get("meta") if top else None
    if not isinstance(meta, dict):
        # No usable meta: a headerless dump. Name it after the file; most imports are groups.
        meta = {"name": path.stem, "type": "group"}
    name = _text(meta, "name")
    platform = _text(meta, "platform") or "wechat"
    kind = _text(meta, "type")
    group_id = _text(meta, "groupId")
    is_group = kind == "group" or (kind is None and group_id is not None)
    if group_id and len(group_id) <= MAX_ID_CHARS:
        chat_id = group_id
    elif group_id:  # too long to store as an id (see MAX_ID_CHARS): the same chat by its hash
        digest = hashlib.sha1(group_id.encode("utf-8")).hexdigest()[:20]
        chat_id = f"chatlab:{platform}:group-id:{digest}"
    else:
        digest = hashlib.sha1((name or path.stem).encode("utf-8")).hexdigest()[:12]
        chat_id = f"chatlab:{platform}:{kind or 'unknown'}:{digest}"
    return Chat(chat_id, name, is_group, platform, _text(meta, "ownerId"))


def _sender(obj: dict[str, Any]) -> str:
    value = obj.get("sender")
    if value is None:
        if "sender" in obj:
            raise BadItem("sender 为空")
        raise BadItem("缺少字段 sender")
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise BadItem("sender 为空")
        return checked_id(clean_text(value), "sender")
    if type(value) is int:
        return str(value)
    raise BadItem(f"sender 应为字符串: {short(value)}")


def _type(obj: dict[str, Any]) -> int:
    value = obj.get("type")
    if type(value) is int:
        return value
    if value is None:
        raise BadItem("缺少字段 type")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdecimal():
        # isdecimal, not isdigit: "²" is a digit that int() refuses; and int() also refuses
        # more than 4300 digits. Either way it is an unknown type, not a crash.
        try:
            return int(value)
        except ValueError:
            pass
    raise BadItem(f"type 未知: {short(value)}")


def message(obj: Any, origin: str, chat: Chat) -> MessageEvent | Reject:
    """One ChatLab message object → event, or a Reject naming the field that is wrong."""
    if not isinstance(obj, dict):
        return Reject(origin, f"消息应为 JSON 对象: {short(obj)}")
    try:
        sender = _sender(obj)
        if "timestamp" not in obj:
            raise BadItem("缺少字段 timestamp")
        ts: datetime = epoch(obj["timestamp"], "timestamp")
        code = _type(obj)
        # `content` is required by the spec but media messages often leave it out: treat a
        # missing one as null rather than losing the message.
        msg_id = _text(obj, "platformMessageId")
        if msg_id is not None:
            checked_id(msg_id, "platformMessageId")
        content = obj.get("content")
        if content is not None:
            if not isinstance(content, str):
                raise BadItem(f"content 应为字符串或 null: {short(content)}")
            content = clean_text(content)
    except BadItem as exc:
        return Reject(origin, exc.reason)
    kind = TYPES.get(code, MessageType.OTHER)
    if code == _SHARE and content and "小程序" in content:
        kind = MessageType.MINI_PROGRAM
    return message_event(
        msg_id or stable_message_id(chat.id, sender, ts, content), ts, chat.id, sender, kind,
        content, chat.name, chat.is_group,
        _text(obj, "groupNickname") or _text(obj, "accountName"), chat.platform, (),
        chat.owner is not None and sender == chat.owner, origin, obj)


def member(obj: Any, origin: str, chat: Chat) -> MemberInfo | Reject:
    """One ChatLab member → MemberInfo; the group nickname wins, other names become aliases."""
    if not isinstance(obj, dict):
        return Reject(origin, f"成员应为 JSON 对象: {short(obj)}")
    pid = _text(obj, "platformId")
    if pid is None:
        return Reject(origin, "缺少字段 platformId" if "platformId" not in obj
                      else f"platformId 无效: {short(obj['platformId'])}")
    try:
        checked_id(pid, "platformId")
    except BadItem as exc:
        return Reject(origin, exc.reason)
    account = _text(obj, "accountName")
    name = _text(obj, "groupNickname") or account or pid
    names = [account] if account else []
    aliases = obj.get("aliases")
    if isinstance(aliases, list):
        names.extend(clean_text(a.strip()) for a in aliases if isinstance(a, str))
    # Keep order, drop blanks, duplicates and the display name itself.
    alias_tuple = tuple(dict.fromkeys(a for a in names if a and a != name))
    roles = obj.get("roles")
    ids = {r.get("id") for r in roles if isinstance(r, dict)} if isinstance(roles, list) else set()
    staff = "owner" if "owner" in ids else "admin" if "admin" in ids else None
    return MemberInfo(platform_id=pid, name=name, platform=chat.platform, chat=chat.id,
                      aliases=alias_tuple, origin=origin, staff_role=staff)
