"""ChatLab exports (JSON and JSONL, v0.0.1 and v0.0.2) as neutral events.

ChatLab is the exchange format most chat exporters can target, so it is the primary import.
The two encodings share one message/member builder (bot/sources/chatlab_items.py); they differ
only in how the chat's `meta` is found and how each item's line number is known:

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

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
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
from bot.sources.encoding import ByteScan, byte_reason, escaped_in, escaped_reason, scanned_lines
from handlers.events import (
    Reject,
    SourceItem,
)

FORMAT = "chatlab"

_decoder = json.JSONDecoder()
_ws = re.compile(r"[ \t\n\r]*").match
_separator = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*").match
# What `_skip_value` stops at: a bracket or the start of a string.
_structural = re.compile(r'[\[\]{}"]')
_string_end = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


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
    # Bytes that are not UTF-8 were read as lone surrogates; the elements holding them are
    # rejected. (`cut_at_end`: the file ends inside a character.)
    escaped: bool = False
    cut_at_end: bool = False


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
        except RecursionError:
            value, idx = TooDeep(), _skip_value(text, idx)
        values.append(value)
        match = sep(text, idx)
        if match is None:
            raise _Layout
        idx = match.end()
        if match.group(1) == "]":
            return values, offsets, idx


def _skip_value(text: str, idx: int) -> int:
    """The end of the array or object starting at text[idx], found without recursion."""
    depth = 0
    while True:
        match = _structural.search(text, idx)
        if match is None:
            raise _Layout
        char = match.group()
        if char == '"':
            string = _string_end.match(text, match.start())
            if string is None:
                raise _Layout
            idx = string.end()
            continue
        idx = match.end()
        depth += 1 if char in "[{" else -1
        if depth == 0:
            return idx
        if depth < 0:
            raise _Layout


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
    scan: ByteScan | None = None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        scan = ByteScan()
        scan.check(data.removeprefix(b"\xef\xbb\xbf"), 1, at_end=True)
        refusal = scan.refusal(path)
        if refusal is not None:
            raise SourceError(*refusal) from None
        text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    del data
    offsets: dict[str, list[int]] = {}
    try:
        top, offsets = _walk(text)
    except (_Layout, ValueError, RecursionError):
        try:
            top = loads_bounded(text)
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
        escaped=scan is not None,
        cut_at_end=scan is not None and scan.cut_at_end,
    )


def _iter_json(path: Path, doc: _Document) -> Iterator[SourceItem]:
    chat = chat_from(path, doc.top)
    yield from doc.problems
    for origin, obj in doc.members:
        yield _undecodable(obj, origin, doc) or member(obj, origin, chat)
    for origin, obj in doc.messages:
        yield _undecodable(obj, origin, doc) or message(obj, origin, chat)


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
    total = len(doc.members) + len(doc.messages) + len(doc.problems)
    return Source(path, FORMAT, total, lambda: _iter_json(path, doc))
