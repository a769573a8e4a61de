"""Bytes that are not UTF-8: one bad line costs that line, a file in another encoding is refused.

Chat exports are UTF-8, but copies get cut inside a character, one row gets pasted in from a
GBK tool, a Java or MySQL exporter writes an emoji as CESU-8 (each half of its surrogate pair
as three bytes). Refusing the whole file for one such line lost thousands of good ones, so
the sources read text with ``errors="surrogateescape"``: a byte that is not UTF-8 becomes a
lone surrogate U+DC80–U+DCFF, which valid UTF-8 can never produce, and the line or row that
holds one becomes a `Reject` whose reason names what the bytes look like.

A file whose non-ASCII text is *all* undecodable, and reads as GBK, is a GBK export, not a
UTF-8 file with a bad line: that is still refused as a whole, with the hint to re-export it,
because importing it line by line would reject every Chinese message.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Each half of a UTF-16 surrogate pair written as its own three-byte sequence (CESU-8).
_CESU = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")
# What surrogateescape turns an undecodable byte into.
ESCAPED = re.compile("[\udc80-\udcff]")
_CHUNK = 1 << 20
_BOM = codecs.BOM_UTF8
GBK_HINT = "看起来是 GBK 编码，请用 UTF-8 重新导出或另存为 UTF-8"


def byte_reason(raw: bytes, cut_at_end: bool = False) -> str:
    """Why `raw` (one line or cell) is not UTF-8, in the words a reject uses.

    `cut_at_end`: the file itself ends inside a character, so an incomplete sequence at the
    end of `raw` is a truncated copy, not another encoding.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if cut_at_end and exc.end == len(raw) and exc.reason == "unexpected end of data":
            return "不是完整的 UTF-8：文件在一个字符中间结束（复制或下载不完整？）"
        if _CESU.search(raw):
            return ("不是标准 UTF-8 编码（像是 CESU-8：表情等字符被拆成两半，Java/MySQL 导出常见；"
                    "请用标准 UTF-8 重新导出）")
        try:
            raw.decode("gbk")
        except UnicodeDecodeError:
            return f"不是 UTF-8 编码（含无法解码的字节 0x{raw[exc.start]:02X}）"
        return f"不是 UTF-8 编码（{GBK_HINT}）"
    return "不是 UTF-8 编码"


def escaped_reason(text: str, cut_at_end: bool = False) -> str | None:
    """The reject reason for text read with surrogateescape, or None when it decoded cleanly."""
    if ESCAPED.search(text) is None:
        return None
    return byte_reason(text.encode("utf-8", "surrogateescape"), cut_at_end)


def escaped_in(value: Any) -> str | None:
    """The first string inside a parsed JSON value that holds undecodable bytes (a loop: the
    value may be nested as deep as the decoder allows)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if ESCAPED.search(node):
                return node
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


@dataclass(slots=True)
class ByteScan:
    """What a pass over a file's bytes found: how many lines are not UTF-8, and whether the
    file is UTF-8 at all."""

    bad_lines: int = 0
    # (line number, its bytes) of the first bad line: the whole-file refusal names it.
    first_bad: tuple[int, bytes] | None = None
    # A line of non-ASCII text that is valid UTF-8: the file is UTF-8 with a few bad lines.
    utf8_seen: bool = False
    gbk_lines: int = 0
    # The last byte sequence is cut short: a truncated copy.
    cut_at_end: bool = False

    def refusal(self, path: Path) -> tuple[str, str] | None:
        """(where, reason) when the file is in another encoding as a whole, else None."""
        if self.first_bad is None or self.utf8_seen or self.gbk_lines < self.bad_lines:
            return None
        return f"{path}:{self.first_bad[0]}", f"不是 UTF-8 编码（{GBK_HINT}）"

    def check(self, block: bytes, first_line: int, at_end: bool) -> None:
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if not self.utf8_seen and not block.isascii():
                self.utf8_seen = True
            return
        lines = block.split(b"\n")
        for offset, raw in enumerate(lines):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad_lines += 1
                if self.first_bad is None:
                    self.first_bad = (first_line + offset, raw)
                last = at_end and offset == len(lines) - 1
                if last and exc.end == len(raw) and exc.reason == "unexpected end of data":
                    # A copy cut inside a character: evidence of nothing but the cut.
                    self.cut_at_end = True
                elif _is_gbk(raw):
                    self.gbk_lines += 1
            else:
                if not raw.isascii():
                    self.utf8_seen = True


def _is_gbk(raw: bytes) -> bool:
    if _CESU.search(raw):
        return False
    try:
        raw.decode("gbk")
    except UnicodeDecodeError:
        return False
    return True


def scanned_lines(path: Path, scan: ByteScan) -> Iterator[bytes]:
    """The raw lines of `path` (split on b"\\n", BOM removed), noting in `scan` which are not
    UTF-8. Works on bytes in 1 MiB blocks: the cheap pre-pass that also counts items.

    A line longer than a block (a single-line JSON document) is gathered in pieces and joined
    once, not copied again with every block.
    """
    lineno = 1  # line on which the gathered `parts` start
    parts: list[bytes] = []
    with path.open("rb") as fh:
        if fh.read(len(_BOM)) != _BOM:
            fh.seek(0)
        while chunk := fh.read(_CHUNK):
            cut = chunk.rfind(b"\n")
            if cut < 0:
                parts.append(chunk)
                continue
            if parts:
                cut += sum(map(len, parts))
                parts.append(chunk)
                chunk = b"".join(parts)
            complete, rest = chunk[:cut], chunk[cut + 1:]
            parts = [rest] if rest else []
            scan.check(complete, lineno, at_end=False)
            lines = complete.split(b"\n")
            lineno += len(lines)
            yield from lines
    if parts:
        pending = b"".join(parts)
        scan.check(pending, lineno, at_end=True)
        yield pending


def utf8_scan(path: Path) -> ByteScan | None:
    """None when `path` is UTF-8 throughout (the usual case: decoded block by block, no line
    kept); else what `scanned_lines` finds in it, line by line. OSError when unreadable."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return None
        except UnicodeDecodeError:
            pass
    scan = ByteScan()
    for _ in scanned_lines(path, scan):
        pass
    return scan
