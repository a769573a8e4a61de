"""ChatLab exports (JSON and JSONL, v0.0.1 and v0.0.2) as neutral events.

ChatLab is the exchange format most chat exporters can target, so it is the primary import.
The two encodings share one message/member builder; they differ only in how the chat's
`meta` is found and how each item's line number is known:

- JSONL is read lazily, one line per item. The first `header` line anywhere in the file sets
  the chat for the lines before it too (a header written late, or a file where a tool
  prepended a few lines, still imports as one chat); a later header switches the chat for
  the lines after it. No header at all: the chat is named after the file.
- JSON is one document and is loaded whole (the format's own advice: < 1M messages). To name
  the line of each message in a reject, the top-level object is walked by hand and every
  element of `members` / `messages` is decoded with `JSONDecoder.raw_decode` at its offset.
  Anything that walk cannot follow falls back to `json.loads`, whose error is then the
  authority, and to `path:messages[INDEX]` origins.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.sources.common import (
    BadItem,
    Source,
    SourceError,
    checked_lines,
    encoding_error,
    epoch,
    json_line,
)
from handlers.events import (
    MemberInfo,
    MessageEvent,
    MessageType,
    Reject,
    SourceItem,
    message_event,
    stable_message_id,
)
from handlers.rows import short

FORMAT = "chatlab"

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

_decoder = json.JSONDecoder()
_ws = re.compile(r"[ \t\n\r]*").match
_separator = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*").match


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
        value = value.strip()
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
    if group_id:
        chat_id = group_id
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
        return value
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
        content = obj.get("content")
        if content is not None and not isinstance(content, str):
            raise BadItem(f"content 应为字符串或 null: {short(content)}")
    except BadItem as exc:
        return Reject(origin, exc.reason)
    kind = TYPES.get(code, MessageType.OTHER)
    if code == _SHARE and content and "小程序" in content:
        kind = MessageType.MINI_PROGRAM
    msg_id = _text(obj, "platformMessageId")
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
    account = _text(obj, "accountName")
    name = _text(obj, "groupNickname") or account or pid
    names = [account] if account else []
    aliases = obj.get("aliases")
    if isinstance(aliases, list):
        names.extend(a.strip() for a in aliases if isinstance(a, str))
    # Keep order, drop blanks, duplicates and the display name itself.
    alias_tuple = tuple(dict.fromkeys(a for a in names if a and a != name))
    return MemberInfo(platform_id=pid, name=name, platform=chat.platform, chat=chat.id,
                      aliases=alias_tuple, origin=origin)


# ---- JSONL -------------------------------------------------------------------------------

def looks_like_jsonl(path: Path, head: bytes) -> bool:
    """JSONL or one JSON document? Decided from the first meaningful line.

    A first line that is a whole object with `_type` (or a `#` comment, which JSON cannot
    have) means JSONL; a first line that is a whole object without it is a one-line JSON
    document; an incomplete first line (pretty-printed JSON, or a header longer than the
    sniffed head) falls back to the extension and a `"_type"` key in it.
    """
    text = head.decode("utf-8", "replace").removeprefix("\ufeff")
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            return True
        try:
            obj = json.loads(stripped)
        except ValueError:
            return path.suffix.lower() == ".jsonl" or '"_type"' in stripped
        return isinstance(obj, dict) and "_type" in obj
    return path.suffix.lower() == ".jsonl"


def _scan_jsonl(path: Path) -> tuple[int, dict[str, Any] | None]:
    """Count the item lines and find the first header, in one cheap pass over the bytes."""
    total = 0
    header: dict[str, Any] | None = None
    for raw in checked_lines(path):
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        if b'"header"' in line:
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if isinstance(obj, dict) and obj.get("_type") == "header":
                if header is None:
                    header = obj
                continue
        total += 1
    return total, header


def _iter_jsonl(path: Path, first_header: dict[str, Any] | None) -> Iterator[SourceItem]:
    where = str(path)
    chat = chat_from(path, first_header)
    seen_header = False
    loads = json_line
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for lineno, line in enumerate(fh, 1):
                line = line.strip()
                if not line or line[0] == "#":
                    continue
                origin = f"{where}:{lineno}"
                try:
                    obj = loads(line)
                except ValueError as exc:
                    col = f"，第 {exc.colno} 列" if isinstance(exc, json.JSONDecodeError) else ""
                    yield Reject(origin, f"不是有效的 JSON（{getattr(exc, 'msg', exc)}{col}）")
                    continue
                if not isinstance(obj, dict):
                    yield Reject(origin, f"应为 JSON 对象: {short(obj)}")
                    continue
                kind = obj.get("_type")
                if kind == "message":
                    yield message(obj, origin, chat)
                elif kind == "member":
                    yield member(obj, origin, chat)
                elif kind == "header":
                    # The first header already applies from line 1; later ones switch chats.
                    if seen_header:
                        chat = chat_from(path, obj)
                    seen_header = True
                elif kind is None:
                    yield Reject(origin, "缺少字段 _type")
                else:
                    yield Reject(origin, f"_type 未知: {short(kind)}")
    except UnicodeDecodeError as exc:  # the file changed since it was opened
        raise SourceError(where, f"不是 UTF-8 编码（{exc.reason}）") from None
    except OSError as exc:
        raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None


# ---- JSON --------------------------------------------------------------------------------

class _Layout(Exception):
    """The hand walk met something it does not follow; json.loads decides instead."""


@dataclass(slots=True)
class _Document:
    top: dict[str, Any]
    # (origin, element) pairs for the two arrays; origins already formatted.
    members: list[tuple[str, Any]]
    messages: list[tuple[str, Any]]
    problems: list[Reject]


def _walk_array(text: str, idx: int) -> tuple[list[Any], list[int], int]:
    """Decode the array starting at text[idx] == "[", keeping each element's start offset.

    Calls the decoder's C scanner directly and eats "<ws>,<ws>" with one regex: this loop
    runs once per message, so it is kept to about json.loads' own cost.
    """
    values: list[Any] = []
    offsets: list[int] = []
    scan = _decoder.scan_once
    sep = _separator
    idx = _ws(text, idx + 1).end()
    if text.startswith("]", idx):
        return values, offsets, idx + 1
    while True:
        offsets.append(idx)
        try:
            value, idx = scan(text, idx)
        except StopIteration:
            raise _Layout from None
        values.append(value)
        match = sep(text, idx)
        if match is None:
            raise _Layout
        idx = match.end()
        if match.group(1) == "]":
            return values, offsets, idx


def _walk(text: str) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Parse the top-level object, recording element offsets of `members` and `messages`."""
    top: dict[str, Any] = {}
    offsets: dict[str, list[int]] = {}
    idx = _ws(text, 0).end()
    if not text.startswith("{", idx):
        raise _Layout
    idx = _ws(text, idx + 1).end()
    if text.startswith("}", idx):
        idx += 1
    else:
        while True:
            if not text.startswith('"', idx):
                raise _Layout
            key, idx = _decoder.raw_decode(text, idx)
            idx = _ws(text, idx).end()
            if not text.startswith(":", idx):
                raise _Layout
            idx = _ws(text, idx + 1).end()
            if key in ("members", "messages") and text.startswith("[", idx):
                top[key], offsets[key], idx = _walk_array(text, idx)
            else:
                top[key], idx = _decoder.raw_decode(text, idx)
                offsets.pop(key, None)
            idx = _ws(text, idx).end()
            sep = text[idx: idx + 1]
            if sep == ",":
                idx = _ws(text, idx + 1).end()
            elif sep == "}":
                idx += 1
                break
            else:
                raise _Layout
    if _ws(text, idx).end() != len(text):
        raise _Layout
    return top, offsets


def _origins(where: str, key: str, text: str, count: int, offsets: list[int] | None) -> list[str]:
    """`path:LINE` for each element, or `path:key[i]` when lines cannot tell them apart."""
    if offsets is not None and len(offsets) == count:
        lines: list[int] = []
        line, last = 1, 0
        for off in offsets:
            line += text.count("\n", last, off)
            last = off
            lines.append(line)
        # Minified JSON puts everything on one line; an index is more useful there.
        if all(a < b for a, b in pairwise(lines)):
            return [f"{where}:{n}" for n in lines]
    return [f"{where}:{key}[{i}]" for i in range(count)]


def _load_json(path: Path) -> _Document:
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise encoding_error(path, data, exc.start, 1) from None
    del data
    offsets: dict[str, list[int]] = {}
    try:
        top, offsets = _walk(text)
    except (_Layout, ValueError):
        try:
            top = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{where}:{exc.lineno}:{exc.colno}",
                              f"不是有效的 JSON（{exc.msg}）") from None
        except ValueError as exc:
            # Not a syntax error but a value the decoder refuses: an integer of more than
            # 4300 digits (Python's int/str conversion limit). The document cannot be loaded.
            raise SourceError(where, f"不是有效的 JSON（{exc}）") from None
        offsets = {}
    if not isinstance(top, dict):
        raise SourceError(where, "不是 ChatLab JSON（顶层应为对象，含 chatlab、meta、messages）")
    if "messages" not in top:
        raise SourceError(where, "不是 ChatLab JSON（缺少字段 messages）")
    messages = top["messages"]
    if not isinstance(messages, list):
        raise SourceError(where, f"messages 应为数组: {short(messages)}")
    problems: list[Reject] = []
    members = top.get("members")
    if members is None:
        members = []
    elif not isinstance(members, list):
        problems.append(Reject(where, f"members 应为数组，已忽略: {short(members)}"))
        members = []
    return _Document(
        top=top,
        members=list(zip(_origins(where, "members", text, len(members), offsets.get("members")),
                         members, strict=True)),
        messages=list(zip(_origins(where, "messages", text, len(messages),
                                   offsets.get("messages")), messages, strict=True)),
        problems=problems,
    )


def _iter_json(path: Path, doc: _Document) -> Iterator[SourceItem]:
    chat = chat_from(path, doc.top)
    yield from doc.problems
    for origin, obj in doc.members:
        yield member(obj, origin, chat)
    for origin, obj in doc.messages:
        yield message(obj, origin, chat)


# ---- entry point -------------------------------------------------------------------------

def open_chatlab(path: Path, head: bytes) -> Source:
    """Open a ChatLab file; JSON is parsed now (so a broken document fails here), JSONL later."""
    if looks_like_jsonl(path, head):
        total, header = _scan_jsonl(path)
        return Source(path, FORMAT, total, lambda: _iter_jsonl(path, header))
    doc = _load_json(path)
    total = len(doc.members) + len(doc.messages) + len(doc.problems)
    return Source(path, FORMAT, total, lambda: _iter_json(path, doc))
