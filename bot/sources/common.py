"""Pieces every file source shares: the error type, the `Source` object, safe reading, timestamps.

Kept apart from `bot.sources.__init__` so the format modules can import them without a cycle.
Everything here is about turning "a file an operator picked" into either items or one readable
line saying what is wrong with it; nothing is format-specific.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sources.encoding import byte_reason
from handlers.events import SourceItem
from handlers.rows import short as _short

# How much of a file is read to sniff its format and check that it is text.
HEAD_SIZE = 64 * 1024
# 2100-01-01T00:00:00Z: later timestamps are typos or milliseconds, never real chat history.
MAX_EPOCH = 4_102_444_800
# Longest id (sender, message, member, chat) a source passes on. Real ones are under 100
# characters; the database indexes them, and PostgreSQL refuses an index entry over 2,704
# bytes (a whole batch with it), so a longer one is a reject of its line, not a crash.
MAX_ID_CHARS = 512


class SourceError(Exception):
    """A file that cannot be imported at all, as one line: ``where: reason``.

    ``where`` is the path as given, plus ``:line`` or ``:line:column`` when known, so the CLI can
    print it unchanged and the operator can open the file at the right spot.
    """

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = " ".join(reason.split("\n"))
        super().__init__(f"{where}: {self.reason}")


def checked_id(value: str, name: str) -> str:
    """`value`, or BadItem when it is too long to be an id (see MAX_ID_CHARS)."""
    if len(value) > MAX_ID_CHARS:
        raise BadItem(f"{name} 过长（{len(value)} 个字符，最多 {MAX_ID_CHARS}）: {short(value)}")
    return value


class BadItem(Exception):
    """Raised while building one item; the source turns it into a `Reject` and carries on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def short(value: object, limit: int = 40) -> str:
    """`handlers.rows.short`, safe for any parsed JSON value.

    orjson accepts 1,024 levels of nesting, deeper than `repr` can walk within Python's
    recursion limit: a reject about such a value must still be a reject, not a traceback.
    """
    try:
        return _short(value, limit)
    except RecursionError:
        return f"（嵌套过深的{type(value).__name__}）"


# A UTF-16 surrogate on its own: what a JSON escape like "\ud800" decodes to. Such a str
# cannot be encoded (UTF-8, the database, a hash), so the sources replace it at the door.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, the rest kept as it was.

    JSON may spell any UTF-16 code unit as an escape, so a broken exporter (one that cut an
    emoji's surrogate pair in half) produces text no encoder takes. Replacing the half
    character is what a UTF-8 decoder does with a broken sequence: the message survives,
    its words are analysed, and the id hashed from it is stable across re-imports.
    """
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def _no_items() -> Iterator[SourceItem]:
    return iter(())


@dataclass
class Source:
    """One opened file: what it is, roughly how big, and a way to walk its items.

    Iterating reads the file again each time (a JSON document too: opening it kept only
    where its arrays are), so a Source can be iterated twice and gives the same items, which
    is what makes re-imports no-ops.
    """

    path: Path
    format: str
    # Expected number of items (messages + members) for a progress bar; None when unknown.
    total: int | None
    reader: Callable[[], Iterator[SourceItem]] = field(
        default=_no_items, repr=False, compare=False)

    def __iter__(self) -> Iterator[SourceItem]:
        return self.reader()


def _load_orjson() -> Callable[[str], Any] | None:
    try:
        import orjson
    except ImportError:
        return None
    return orjson.loads


_orjson_loads = _load_orjson()


def json_line(text: str) -> Any:
    """`json.loads(text)`, through orjson when the `fast` extra installed it.

    orjson parses a chat line in about a third of the time, and gives the same values for
    every document both accept (same key order, last of a repeated key, correctly rounded
    floats) — except integers beyond 64 bits, which it turns into floats: a result holding
    any float at all is parsed again by `json.loads` (chat lines rarely have one), as is
    whatever orjson refuses but the standard library takes (NaN and Infinity, lone
    surrogates, very deep nesting). So the result — and for a broken line the error and its
    message — is always exactly the standard library's.
    """
    if _orjson_loads is not None:
        try:
            value = _orjson_loads(text)
        except ValueError:
            pass
        else:
            if not _has_float(value):
                return value
    return loads_bounded(text)


def loads_bounded(text: str) -> Any:
    """`json.loads`, with nesting too deep for the decoder a ValueError like any other.

    The standard library's decoder recurses once per level: a line nested 200,000 deep ends
    in RecursionError, which is no syntax error and would escape every `except ValueError`.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("嵌套层数过多") from None


def _has_float(value: Any) -> bool:
    """Is there a float anywhere in a parsed JSON value? (A loop, not recursion: orjson
    accepts nesting deeper than Python's recursion limit.)"""
    kind = type(value)
    if kind is not dict and kind is not list:
        return kind is float
    stack = [value]
    while stack:
        node = stack.pop()
        for item in (node.values() if type(node) is dict else node):
            kind = type(item)
            if kind is float:
                return True
            if kind is dict or kind is list:
                stack.append(item)
    return False


def read_head(path: Path) -> bytes:
    """The first bytes of `path`, or a SourceError saying in Chinese why it cannot be read."""
    where = str(path)
    try:
        with path.open("rb") as fh:
            return fh.read(HEAD_SIZE)
    except FileNotFoundError:
        raise SourceError(where, "文件不存在") from None
    except IsADirectoryError:
        raise SourceError(where, "是文件夹，不是文件") from None
    except PermissionError:
        raise SourceError(where, "没有读取权限") from None
    except OSError as exc:
        raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None


def check_head(path: Path, head: bytes, utf8: bool = True) -> None:
    """Refuse files that are plainly not UTF-8 text before any parser sees them.

    Operators pick the wrong file often (an .xlsx, a database, a GBK export); saying so
    beats a JSON or CSV error about byte 0. `utf8=False`: the head may hold bytes that are
    not UTF-8, because the caller's pre-pass decides per line (bot/sources/encoding.py).
    """
    where = str(path)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceError(where, "是 UTF-16 编码，请另存为 UTF-8 后再导入")
    if head.startswith(b"PK\x03\x04"):
        raise SourceError(where, "是 ZIP/Excel 文件，不是聊天记录导出；请导出为 CSV 或 JSON")
    if b"\x00" in head:
        raise SourceError(where, "是二进制文件，不是聊天记录导出")
    if not utf8:
        return
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise encoding_error(path, head, exc.start, 1) from None


def encoding_error(path: Path, data: bytes, pos: int, first_line: int) -> SourceError:
    """The one-line error for a non-UTF-8 file, naming the line and what its bytes look like.

    `data` is a piece of the file whose first byte is on line `first_line`; `pos` is the bad
    byte inside it. Old Windows tools (and Excel "save as CSV") write GBK, Java and MySQL
    exporters CESU-8, hence the hints (bot/sources/encoding.py: `byte_reason`).
    """
    line = first_line + data.count(b"\n", 0, pos)
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    sample = data[start: end if end >= 0 else len(data)]
    return SourceError(f"{path}:{line}", byte_reason(sample, cut_at_end=end < 0))


def epoch(value: object, name: str) -> datetime:
    """Unix seconds (int, float or numeric string) as an aware UTC datetime, or BadItem.

    Bools are refused although Python counts them as ints: `true` in a timestamp field is a
    broken exporter, not 1970-01-01T00:00:01. JSON ints have no size limit, and one too big for
    a float (a 400-digit "timestamp") must be a range error, not an OverflowError out of
    `math.isfinite`, so ints are range-checked as ints.
    """
    seconds: float | int
    if type(value) is int or isinstance(value, float):
        seconds = value
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            raise BadItem(f"{name} 不是数字: {short(value)}") from None
    else:
        raise BadItem(f"{name} 不是数字: {short(value)}")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise BadItem(f"{name} 不是数字: {short(value)}")
    if seconds < 0:
        raise BadItem(f"{name} 不能为负数: {short(value)}")
    if seconds >= MAX_EPOCH:
        hint = "，像是毫秒" if seconds < MAX_EPOCH * 1000 and seconds > 1e11 else ""
        raise BadItem(f"{name} 超出范围（晚于 2100 年{hint}）: {short(value)}")
    return datetime.fromtimestamp(seconds, UTC)


def csv_rows(reader: Any) -> Iterator[tuple[int, list[str] | str]]:
    """(start line, row) pairs; a row the csv module cannot parse comes back as its error text.

    The start line is one past where the previous row ended, which is right even when a
    quoted field spans lines (`reader.line_num` alone gives the row's *last* line). Every CSV
    source reports rejects by this physical line, so the operator can open the file there.
    Blank lines are skipped, as the csv module itself does.
    """
    end: int = reader.line_num
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            yield start, f"CSV 格式错误（{exc}）"
            continue
        end = reader.line_num
        if row:
            yield start, row
