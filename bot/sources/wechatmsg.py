"""WeChatMsg (MemoTrace / 留痕) CSV exports as neutral events.

The exporter writes one CSV per chat, UTF-8 with BOM, named after the contact or group
("宝妈群_utf8.csv"), with the header
``localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender``
(older versions stop after StrTime). Columns are found by name, not position.

Two things in real exports shape this module:

- `TalkerId` is usually WeChat's *local numeric* talker index (MSG.TalkerId), not the
  wxid / "…@chatroom" string. When it is a string id it is used as the chat, as documented.
  When it is a number it says nothing about the chat, so a short survey of the file decides:
  two or more different non-self `Sender`s (or a system line about the 群) make it a group,
  whose id is a hash of the chat name from the file name; otherwise it is a private chat whose
  id is the contact's wxid (the `Sender` of their messages).
- Some versions write a 12-column header but only 9 values on private-chat rows (no
  Remark/NickName/Sender). Those rows are accepted; any other column count is a reject.

`localId` is a per-device row number, so messages get the stable hash id, never localId.
Events carry no `raw` row: nothing downstream needs localId/Status, and building a dict per
row was a measurable share of a 200k-row import.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.sources.common import (
    MAX_ID_CHARS,
    BadItem,
    Source,
    SourceError,
    checked_id,
    csv_rows,
    epoch,
    short,
)
from bot.sources.csv_records import csv_records
from bot.sources.encoding import ESCAPED, ByteScan, escaped_reason, scanned_lines
from handlers.events import MessageEvent, MessageType, Reject, SourceItem, stable_message_id

FORMAT = "wechatmsg-csv"
COLUMNS = ("localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status",
           "StrContent", "StrTime", "Remark", "NickName", "Sender")
REQUIRED = ("TalkerId", "Type", "StrContent")
# How many rows the chat survey may read before deciding "private" (groups decide at once).
SURVEY_ROWS = 20_000

T = MessageType
TYPES: dict[int, MessageType] = {
    1: T.TEXT, 3: T.IMAGE, 34: T.VOICE, 42: T.CONTACT_CARD, 43: T.VIDEO, 47: T.STICKER,
    48: T.LOCATION, 50: T.CALL, 10000: T.SYSTEM, 10002: T.RECALL,
}
APP_MESSAGE = 49
# Type 49 "app messages" by SubType; anything else there is some kind of card, i.e. a link.
APP_TYPES: dict[int, MessageType] = {
    3: T.LINK, 4: T.LINK, 5: T.LINK, 6: T.FILE, 19: T.FORWARD, 33: T.MINI_PROGRAM,
    36: T.MINI_PROGRAM, 40: T.FORWARD, 57: T.QUOTE, 2000: T.TRANSFER, 2001: T.RED_PACKET,
}
_MEDIA = frozenset({T.IMAGE, T.VOICE, T.VIDEO, T.STICKER, T.CALL, T.CONTACT_CARD})
_SYSTEM_CODES = frozenset({"10000", "10002"})

_TITLE = re.compile(r"<title>\s*(?:<!\[CDATA\[(.*?)\]\]>|([^<]*?))\s*</title>", re.S)
_RECALL = re.compile(r"<(?:replacemsg|revokemsg)>\s*(?:<!\[CDATA\[(.*?)\]\]>|([^<]*?))\s*<", re.S)
_LOCATION = re.compile(r'\b(?:label|poiname)="([^"]+)"')

# App-message XML can exceed the csv module's 128 KiB default field limit; one such row must
# not end the import. (Process-wide setting, only ever raised.)
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))


def chat_name_for(path: Path) -> str:
    """WeChatMsg names the file after the chat and appends "_utf8"; undo that."""
    stem = path.stem
    for suffix in ("_utf8", "_gbk"):
        stem = stem.removesuffix(suffix)
    return stem


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


class Columns:
    """Column positions by name. Missing optional columns point at the padding cell."""

    def __init__(self, header: list[str], where: str) -> None:
        names = [h.strip().removeprefix("\ufeff") for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if not ("CreateTime" in names or "StrTime" in names):
            missing.append("CreateTime")
        if missing:
            raise SourceError(
                f"{where}:1",
                f"表头缺少列 {'、'.join(missing)}（WeChatMsg CSV 表头应为 {','.join(COLUMNS)}）")
        self.names = names
        self.count = len(names)
        pad = self.count  # rows get one "" appended, so this index reads as empty
        pos = {n: i for i, n in enumerate(names)}
        self.talker = pos["TalkerId"]
        self.type = pos["Type"]
        self.content = pos["StrContent"]
        self.subtype = pos.get("SubType", pad)
        self.is_sender = pos.get("IsSender", pad)
        self.create_time = pos.get("CreateTime", pad)
        self.str_time = pos.get("StrTime", pad)
        self.remark = pos.get("Remark", pad)
        self.nickname = pos.get("NickName", pad)
        self.sender = pos.get("Sender", pad)
        # The short private-chat rows some versions write under a full header.
        short_len = pos["StrTime"] + 1 if "StrTime" in pos else self.count
        self.short = short_len if short_len < self.count else self.count

    def fit(self, row: list[str]) -> list[str] | None:
        """The row padded to header length plus one empty cell, or None if the count is wrong."""
        n = len(row)
        if n == self.count:
            row.append("")
            return row
        if n == self.short:
            row.extend([""] * (self.count - n + 1))
            return row
        return None


@dataclass(frozen=True, slots=True)
class Chat:
    """The chat behind numeric TalkerIds, decided once per file by `_survey`."""

    id: str
    name: str | None
    is_group: bool


def _survey(path: Path, cols: Columns) -> Chat:
    """Group or private, and who the contact is, for files whose TalkerId is a number."""
    name = chat_name_for(path)
    senders: set[str] = set()
    contact_name: str | None = None
    group_hint = False
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        rows = csv_rows(csv.reader(fh))
        next(rows, None)  # header
        for count, (_, row) in enumerate(rows):
            if count >= SURVEY_ROWS or len(senders) >= 2 or group_hint:
                break
            fitted = None if isinstance(row, str) else cols.fit(row)
            if fitted is None or fitted[cols.is_sender].strip() == "1":
                continue
            if any(ESCAPED.search(cell) for cell in fitted):
                continue  # a row that is not UTF-8 is rejected; it names nobody
            if fitted[cols.type].strip() in _SYSTEM_CODES:
                group_hint = "群" in fitted[cols.content]
                continue
            sender = fitted[cols.sender].strip()
            if sender and len(sender) <= MAX_ID_CHARS:  # a longer one is that row's reject
                senders.add(sender)
                if contact_name is None:
                    contact_name = fitted[cols.remark].strip() or fitted[cols.nickname].strip()
    if len(senders) >= 2 or group_hint:
        return Chat(f"wechatmsg:group:{_digest(name)}", name, True)
    if senders:
        return Chat(senders.pop(), contact_name or name, False)
    return Chat(f"wechatmsg:private:{_digest(name)}", name, False)


def _title(content: str) -> str | None:
    match = _TITLE.search(content)
    if not match:
        return None
    title = (match.group(1) or match.group(2) or "").strip()
    if "&" in title:
        title = html.unescape(title)
    return title or None


def _text(kind: MessageType, code: int, content: str) -> str | None:
    """The human-readable part of StrContent: titles out of app-message XML, None for media."""
    if kind in _MEDIA:
        return None
    is_xml = content.lstrip().startswith("<")
    if code == APP_MESSAGE:
        return _title(content) if is_xml else (content or None)
    if kind is T.RECALL and is_xml:
        match = _RECALL.search(content)
        if match is None:
            return None
        return (match.group(1) or match.group(2) or "").strip() or None
    if kind is T.LOCATION:
        match = _LOCATION.search(content)
        return html.unescape(match.group(1)) if match else None
    if kind is T.TEXT or kind is T.SYSTEM:
        return content
    return None if is_xml else (content or None)


def _subtype(cell: str) -> int | None:
    """SubType as a number, or None: an unreadable SubType still leaves a link card.

    `str.isdigit` accepts "²", which `int()` refuses, and `int()` also refuses more than 4300
    digits; either one used to end the whole import with a ValueError.
    """
    sub = cell.strip()
    if not sub.isdecimal():
        return None
    try:
        return int(sub)
    except ValueError:
        return None


def _time(row: list[str], cols: Columns, tz: ZoneInfo) -> datetime:
    raw = row[cols.create_time].strip()
    if raw and raw != "0":
        return epoch(raw, "CreateTime")
    local = row[cols.str_time].strip()
    if not local:
        raise BadItem("缺少时间（CreateTime 与 StrTime 都为空）")
    try:
        naive = datetime.fromisoformat(local.replace("/", "-"))
    except ValueError:
        raise BadItem(f"CreateTime 为空且 StrTime 无法解析: {short(local)}") from None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=tz)
    return naive.astimezone(UTC)


def _count_rows(path: Path, scan: ByteScan) -> int:
    """Data rows in the file, counted on bytes: a newline ends a row when quotes are balanced.

    Multi-line quoted fields (app-message XML, texts with line breaks) are common in these
    exports, so plain line counts would overshoot the progress bar badly. The same pass notes
    in `scan` the lines that are not UTF-8.
    """
    rows = 0
    quotes = 0
    for line in scanned_lines(path, scan):
        if not quotes & 1 and not line.strip():
            continue  # blank line between rows; the csv reader skips it too
        quotes += line.count(b'"')
        if not quotes & 1:
            rows += 1
    return max(rows - 1, 0)  # minus the header


def _undecodable(row: list[str], scan: ByteScan) -> str | None:
    """The reject reason for a row holding bytes that are not UTF-8 (read as surrogates)."""
    for cell in row:
        reason = escaped_reason(cell, scan.cut_at_end)
        if reason is not None:
            return reason
    return None


def _iter_rows(path: Path, tz: ZoneInfo, scan: ByteScan) -> Iterator[SourceItem]:
    where = str(path)
    undecodable = scan.bad_lines > 0
    name = chat_name_for(path)
    numeric_chat: Chat | None = None
    contact_names: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            shape: list[Columns] = []  # the header's, once read

            def fits(row: list[str]) -> bool:
                return not shape or len(row) in (shape[0].count, shape[0].short)

            rows = csv_records(fh, fits)
            first = next(rows, None)
            if first is None or isinstance(first[1], str):
                return
            cols = Columns(first[1], where)
            shape.append(cols)
            for start, row in rows:
                origin = f"{where}:{start}"
                if isinstance(row, str):
                    yield Reject(origin, row)
                    continue
                if undecodable:
                    bad = _undecodable(row, scan)
                    if bad is not None:
                        yield Reject(origin, bad)
                        continue
                fitted = cols.fit(row)
                if fitted is None:
                    expect = (f"{cols.count}" if cols.short == cols.count
                              else f"{cols.count} 或 {cols.short}")
                    yield Reject(origin, f"列数不对：应为 {expect} 列，实际 {len(row)} 列")
                    continue
                try:
                    talker = checked_id(fitted[cols.talker].strip(), "TalkerId")
                    if not talker:
                        raise BadItem("缺少 TalkerId")
                    checked_id(fitted[cols.sender].strip(), "Sender")
                    code_text = fitted[cols.type].strip()
                    if not code_text:
                        raise BadItem("缺少 Type")
                    try:
                        code = int(code_text)
                    except ValueError:
                        raise BadItem(f"Type 不是数字: {short(code_text)}") from None
                    ts = _time(fitted, cols, tz)
                except BadItem as exc:
                    yield Reject(origin, exc.reason)
                    continue

                is_self = fitted[cols.is_sender].strip() == "1"
                sender = fitted[cols.sender].strip()
                sender_name = fitted[cols.remark].strip() or fitted[cols.nickname].strip() or None
                if talker.isdigit():
                    if numeric_chat is None:
                        numeric_chat = _survey(path, cols)
                    chat, chat_name, is_group = (
                        numeric_chat.id, numeric_chat.name, numeric_chat.is_group)
                elif talker.endswith("@chatroom"):
                    chat, chat_name, is_group = talker, name, True
                else:
                    # Private chat: the contact's own name, once seen, beats the file name.
                    if not is_self and sender_name:
                        contact_names.setdefault(talker, sender_name)
                    chat, chat_name, is_group = talker, contact_names.get(talker, name), False
                if not sender:
                    # Private rows without Sender are the contact's. A group notice ("…加入了
                    # 群聊", "…撤回了一条消息") has none either: WeChat's own line, not a
                    # member's. Said by the chat it made the chatroom a member, so it is kept
                    # on the account's side (is_self), which no import stores as anyone's.
                    is_self = is_self or is_group
                    sender = "self" if is_self else chat

                if code == APP_MESSAGE:
                    sub = _subtype(fitted[cols.subtype])
                    kind = T.LINK if sub is None else APP_TYPES.get(sub, T.LINK)
                else:
                    kind = TYPES.get(code, T.OTHER)
                content = fitted[cols.content]
                yield MessageEvent(
                    id=stable_message_id(chat, sender, ts, content),
                    ts=ts,
                    chat=chat,
                    sender=sender,
                    type=kind,
                    text=_text(kind, code, content),
                    chat_name=chat_name,
                    is_group=is_group,
                    sender_name=sender_name,
                    platform="wechat",
                    is_self=is_self,
                    origin=origin,
                )
    except OSError as exc:
        raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None


def open_wechatmsg(path: Path, head: bytes, tz: ZoneInfo) -> Source:
    """Open a WeChatMsg CSV: check its header now, count its rows, read rows lazily later."""
    text = head.decode("utf-8", "replace").removeprefix("\ufeff")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    Columns(next(csv.reader([first]), []), str(path))  # raises on a wrong header
    scan = ByteScan()
    try:
        total = _count_rows(path, scan)
    except OSError as exc:
        raise SourceError(str(path), f"无法读取（{exc.strerror or exc}）") from None
    refusal = scan.refusal(path)
    if refusal is not None:
        raise SourceError(*refusal)
    return Source(path, FORMAT, total, lambda: _iter_rows(path, tz, scan))
