"""ChatLab exports (JSON and JSONL, v0.0.1 and v0.0.2) as neutral events.

ChatLab is the exchange format most chat exporters can target, so it is the primary import.
The two encodings share one message/member builder (bot/sources/chatlab_items.py); they differ
only in how the chat's `meta` is found and how each item's line number is known:

- JSONL is read lazily, one line per item. The first `header` line anywhere in the file sets
  the chat for the lines before it too (a header written late, or a file where a tool
  prepended a few lines, still imports as one chat); a later header switches the chat for
  the lines after it. No header at all: the chat is named after the file.
- JSON is one document, read twice and never held whole (bot/sources/json_stream.py): when
  the file is opened, a first pass checks the whole document (a broken one fails then, with
  json.loads' own message and line:column), keeps `meta` (which may come after the
  messages), counts `members` / `messages` and notes where each array starts and whether
  its elements start on lines of their own. Each iteration then reads the arrays again from
  those places, one element at a time, members first; origins are `path:LINE`, or
  `path:messages[INDEX]` when lines cannot tell the elements apart (minified JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.sources.chatlab_items import chat_from, member, message
from bot.sources.common import (
    Source,
    SourceError,
    json_line,
    loads_bounded,
    short,
)
from bot.sources.encoding import (
    ByteScan,
    byte_reason,
    escaped_in,
    escaped_reason,
    scanned_lines,
    utf8_scan,
)
from bot.sources.json_stream import JsonSyntax, JsonWindow, Mark
from handlers.events import (
    Reject,
    SourceItem,
)

FORMAT = "chatlab"

class TooDeep:
    """An element of a JSON document nested deeper than the decoder can follow.

    It stands in the element's place so the message builder rejects that one element (its
    line named) and every other element of the document is still imported.
    """

    def __repr__(self) -> str:
        return "（嵌套层数过多）"


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
            obj = loads_bounded(stripped)
        except ValueError:
            return path.suffix.lower() == ".jsonl" or '"_type"' in stripped
        return isinstance(obj, dict) and "_type" in obj
    return path.suffix.lower() == ".jsonl"


def _scan_jsonl(path: Path) -> tuple[int, dict[str, Any] | None, ByteScan]:
    """Count the item lines, find the first header and the lines that are not UTF-8, in one
    cheap pass over the bytes; a file in another encoding as a whole is refused here."""
    scan = ByteScan()
    try:
        total, header = _count_jsonl(scanned_lines(path, scan))
    except OSError as exc:
        raise SourceError(str(path), f"无法读取（{exc.strerror or exc}）") from None
    refusal = scan.refusal(path)
    if refusal is not None:
        raise SourceError(*refusal)
    return total, header, scan


def _count_jsonl(lines: Iterator[bytes]) -> tuple[int, dict[str, Any] | None]:
    total = 0
    header: dict[str, Any] | None = None
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        if b'"header"' in line:
            try:
                obj = loads_bounded(line)
            except ValueError:
                obj = None
            if isinstance(obj, dict) and obj.get("_type") == "header":
                if header is None:
                    header = obj
                continue
        total += 1
    return total, header


def _iter_jsonl(path: Path, first_header: dict[str, Any] | None,
                scan: ByteScan) -> Iterator[SourceItem]:
    where = str(path)
    chat = chat_from(path, first_header)
    seen_header = False
    loads = json_line
    # Undecodable bytes arrive as lone surrogates (see bot/sources/encoding.py); only a file
    # the pre-pass found such bytes in pays for looking.
    undecodable = scan.bad_lines > 0
    try:
        with path.open(encoding="utf-8-sig", errors="surrogateescape") as fh:
            for lineno, line in enumerate(fh, 1):
                line = line.strip()
                if not line or line[0] == "#":
                    continue
                origin = f"{where}:{lineno}"
                if undecodable:
                    bad = escaped_reason(line, scan.cut_at_end)
                    if bad is not None:
                        yield Reject(origin, bad)
                        continue
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
    except OSError as exc:
        raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None


# ---- JSON ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Array:
    """A `members` / `messages` array as the first pass found it."""

    mark: Mark  # just past its "["
    count: int
    # Every element starts on a later line than the one before, so `path:LINE` names each;
    # else (minified JSON puts everything on one line) `path:key[INDEX]` does.
    by_line: bool


@dataclass(slots=True)
class _Document:
    """What the first pass keeps of a JSON document: the meta, where its arrays are, the
    blocks read (to seek back to them) — never the messages."""

    meta: Any
    members: _Array | None
    messages: _Array
    problems: list[Reject]
    blocks: list[tuple[int, int, tuple[bytes, int]]]
    # Bytes that are not UTF-8 were read as lone surrogates; the elements holding them are
    # rejected. (`cut_at_end`: the file ends inside a character.)
    escaped: bool = False
    cut_at_end: bool = False

    @property
    def total(self) -> int:
        return len(self.problems) + self.messages.count + (
            self.members.count if self.members else 0)


def _survey_array(window: JsonWindow) -> _Array:
    window.pos += 1  # the "["
    mark = window.mark()
    count, by_line, last = 0, True, 0
    for line, _ in window.elements(True, TooDeep):
        count += 1
        by_line = by_line and line > last
        last = line
    return _Array(mark, count, by_line)


def _top_level(window: JsonWindow) -> Any:
    """The top-level value; in an object, `members` and `messages` arrays are `_Array`s.

    Keys repeat as json.loads has them: the last one wins, in the first one's place.
    """
    if window.peek() != "{":
        value = _whole(window, "")
    else:
        window.pos += 1
        value = {}
        state = "{"
        char = window.peek()
        if char == "}":
            window.pos += 1
        while char != "}":
            if char != '"':
                raise window.fail(state)
            key = window.value(state)
            if window.peek() != ":":
                raise window.fail('{""')
            window.pos += 1
            if window.peek() == "[" and key in ("members", "messages"):
                value[key] = _survey_array(window)
            else:
                value[key] = _whole(window, '{"":')
            char = window.peek()
            if char == ",":
                window.comma()
                char, state = window.peek(), '{"":0,'
                if char == "}":
                    raise window.fail(state)
            elif char == "}":
                window.pos += 1
            else:
                raise window.fail('{"":0')
    if window.peek():
        raise window.fail("0")  # json.loads' "Extra data"
    return value


def _whole(window: JsonWindow, state: str) -> Any:
    try:
        return window.value(state)
    except RecursionError:
        raise JsonSyntax("嵌套层数过多") from None


def _load_json(path: Path) -> _Document:
    """The first pass: the document checked whole (a broken one fails here, as json.loads
    would say it), its arrays counted and placed, nothing of them kept."""
    where = str(path)
    try:
        scan = utf8_scan(path)
    except OSError as exc:
        raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None
    if scan is not None:
        refusal = scan.refusal(path)
        if refusal is not None:
            raise SourceError(*refusal)
    try:
        with path.open("rb") as fh:
            window = JsonWindow(fh)
            top = _top_level(window)
    except JsonSyntax as exc:
        raise SourceError(f"{where}:{exc.line}:{exc.col}" if exc.line else where,
                          f"不是有效的 JSON（{exc.msg}）") from None
    except OSError as exc:
        raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None
    if not isinstance(top, dict):
        raise SourceError(where, "不是 ChatLab JSON（顶层应为对象，含 chatlab、meta、messages）")
    if "messages" not in top:
        raise SourceError(where, "不是 ChatLab JSON（缺少字段 messages）")
    messages = top["messages"]
    if not isinstance(messages, _Array):
        raise SourceError(where, f"messages 应为数组: {short(messages)}")
    problems: list[Reject] = []
    members = top.get("members")
    if members is not None and not isinstance(members, _Array):
        problems.append(Reject(where, f"members 应为数组，已忽略: {short(members)}"))
        members = None
    return _Document(top.get("meta"), members, messages, problems, window.blocks,
                     escaped=scan is not None, cut_at_end=scan is not None and scan.cut_at_end)


def _iter_json(path: Path, doc: _Document) -> Iterator[SourceItem]:
    """The second pass, once per iteration: each array read again from its place."""
    where = str(path)
    chat = chat_from(path, {"meta": doc.meta})
    yield from doc.problems
    for key, array, build in (("members", doc.members, member),
                              ("messages", doc.messages, message)):
        if array is None:
            continue
        try:
            with path.open("rb") as fh:
                window = JsonWindow(fh, doc.blocks)
                window.seek(array.mark)
                for i, (line, obj) in enumerate(window.elements(array.by_line, TooDeep)):
                    origin = f"{where}:{line}" if array.by_line else f"{where}:{key}[{i}]"
                    yield _undecodable(obj, origin, doc) or build(obj, origin, chat)
        except JsonSyntax as exc:  # the file changed since it was opened
            raise SourceError(f"{where}:{exc.line}:{exc.col}" if exc.line else where,
                              f"不是有效的 JSON（{exc.msg}）") from None
        except OSError as exc:
            raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None


def _undecodable(obj: Any, origin: str, doc: _Document) -> Reject | None:
    """A Reject for an element holding bytes that are not UTF-8, else None."""
    if not doc.escaped:
        return None
    bad = escaped_in(obj)
    if bad is None:
        return None
    return Reject(origin, byte_reason(bad.encode("utf-8", "surrogateescape"), doc.cut_at_end))


# ---- entry point -------------------------------------------------------------------------

def open_chatlab(path: Path, head: bytes) -> Source:
    """Open a ChatLab file; JSON is parsed now (so a broken document fails here), JSONL later."""
    if looks_like_jsonl(path, head):
        total, header, scan = _scan_jsonl(path)
        return Source(path, FORMAT, total, lambda: _iter_jsonl(path, header, scan))
    doc = _load_json(path)
    return Source(path, FORMAT, doc.total, lambda: _iter_json(path, doc))
