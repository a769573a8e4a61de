"""One JSON document read through a window of text sliding over the file, not loaded whole.

A 44 MB single-line ChatLab export loaded with `json.loads` held the text, every parsed
message and the events made from them at once (836 MB at its peak in `siyu ingest`). This
reader keeps about one megabyte of decoded text: `JsonWindow` decodes the file in blocks and
hands out one value at a time, parsed by the standard library's own C scanner
(`JSONDecoder.scan_once`, what `json.loads` runs), so every value is exactly what `json.loads`
would have built, lone surrogate escapes included.

What `json.loads` says about a broken document is kept too, message and line:column alike,
because an operator opens the file there:
- inside a value the C scanner's own error is the answer; a scan that fails near the end of
  the window (or on a string the window cuts) is retried with more text, so only an error
  the whole file would give is ever reported;
- at the document's own punctuation (the top object's keys, the arrays walked element by
  element) `json.loads` is asked directly, on a few characters that put its parser in the
  same state (`JsonWindow.fail`): the wording is the running Python's, whichever that is.

A value nested deeper than the scanner can recurse is the caller's business
(RecursionError); `skip_value` steps over one without recursion.
"""

from __future__ import annotations

import codecs
import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

_scan = json.JSONDecoder().scan_once
_ws = re.compile(r"[ \t\n\r]*").match
_structural = re.compile(r'[\[\]{}"]')
_string_end = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BOM = codecs.BOM_UTF8

# Bytes decoded per read: the window's size in the usual case.
BLOCK = 1 << 20
# A scan error this close to the window's end may be the window's end: read more, retry.
_MARGIN = 32
# Characters after an error handed to json.loads to word it (every decision it makes at one
# spot looks at fewer: the longest literal is "-Infinity").
_TAIL = 64


class JsonSyntax(Exception):
    """Not JSON: `json.loads`' own message and where, or `line` 0 for an error with no place
    (an integer past Python's digit limit, nesting past the decoder's)."""

    def __init__(self, msg: str, line: int = 0, col: int = 0) -> None:
        super().__init__(msg)
        self.msg, self.line, self.col = msg, line, col


@dataclass(frozen=True, slots=True)
class Mark:
    """A place in the document to come back to: character offset, its line, and the offset
    of the last newline before it (columns count from there)."""

    at: int
    line: int
    last_newline: int


class JsonWindow:
    """The document's text from about the cursor on, read from `fh` a block at a time.

    `pos` indexes `buf`; `start` is the document offset of `buf[0]`. Offsets count characters
    of the decoded text after a BOM, as `json.loads`' positions do. Blocks read are recorded
    (`blocks`) so `seek` can come back to any `Mark` without reading from the start again.
    """

    def __init__(self, fh: BinaryIO, blocks: list[tuple[int, int, tuple[bytes, int]]] | None
                 = None) -> None:
        self.fh = fh
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.buf = ""
        self.pos = 0
        self.start = 0
        self.eof = False
        # (document offset, byte offset, decoder state) where each read began.
        self.blocks: list[tuple[int, int, tuple[bytes, int]]] = [] if blocks is None else blocks
        self.recording = blocks is None
        # Newlines are counted lazily: the line at document offset `line_at` is `line_no`.
        self.line_at, self.line_no = 0, 1
        self.last_newline = -1  # document offset of the last newline before buf[0]
        # Index in buf of a comma still needed to word an error (see `fail`), else None.
        self.keep: int | None = None
        if fh.read(3) != _BOM:
            fh.seek(0)

    # ---- reading -----------------------------------------------------------------------------
    def more(self) -> None:
        """Read the next block (at least as much as is left unscanned, so a value retried after
        each read costs linear time however long it is), dropping the text behind the cursor."""
        drop = self.pos if self.keep is None else min(self.pos, self.keep)
        if drop:
            self._forget(drop)
        size = max(BLOCK, len(self.buf) - self.pos)
        if self.recording:
            self.blocks.append((self.start + len(self.buf), self.fh.tell(),
                                self.decoder.getstate()))
        data = self.fh.read(size)
        piece = self.decoder.decode(data, final=not data)
        self.eof = not data
        self.buf += piece

    def _forget(self, drop: int) -> None:
        """Account for the newlines of buf[:drop] before it is dropped."""
        buf, start = self.buf, self.start
        if self.line_at < start + drop:
            self.line_no += buf.count("\n", max(self.line_at - start, 0), drop)
            self.line_at = start + drop
        cut = buf.rfind("\n", 0, drop)
        if cut >= 0:
            self.last_newline = start + cut
        self.start = start + drop
        self.pos -= drop
        if self.keep is not None:
            self.keep -= drop
        self.buf = buf[drop:]

    def seek(self, mark: Mark) -> None:
        """Continue reading at `mark` (recorded by this window or one over the same file)."""
        i = bisect_right(self.blocks, mark.at, key=lambda b: b[0]) - 1
        at, byte, state = self.blocks[i]
        self.fh.seek(byte)
        self.decoder.setstate(state)
        self.recording = False
        self.buf, self.pos, self.start, self.eof, self.keep = "", 0, at, False, None
        while len(self.buf) <= mark.at - at and not self.eof:
            self.more()
        self.buf = self.buf[mark.at - at:]
        self.start = mark.at
        self.line_at, self.line_no, self.last_newline = mark.at, mark.line, mark.last_newline

    # ---- positions ---------------------------------------------------------------------------
    def line(self) -> int:
        """The line of the cursor (1-based), counting only the newlines since the last ask."""
        here = self.start + self.pos
        if here >= self.line_at:
            self.line_no += self.buf.count("\n", self.line_at - self.start, self.pos)
        else:
            self.line_no -= self.buf.count("\n", self.pos, self.line_at - self.start)
        self.line_at = here
        return self.line_no

    def mark(self) -> Mark:
        cut = self.buf.rfind("\n", 0, self.pos)
        return Mark(self.start + self.pos, self.line(),
                    self.start + cut if cut >= 0 else self.last_newline)

    def _line_col(self, at: int) -> tuple[int, int]:
        index = at - self.start
        if at >= self.line_at:
            line = self.line_no + self.buf.count("\n", self.line_at - self.start, index)
        else:
            line = self.line_no - self.buf.count("\n", index, self.line_at - self.start)
        cut = self.buf.rfind("\n", 0, index)
        return line, at - (self.start + cut if cut >= 0 else self.last_newline)

    def syntax(self, msg: str, index: int) -> JsonSyntax:
        """`msg` at buf[index], placed as json.loads places its errors."""
        return JsonSyntax(msg, *self._line_col(self.start + index))

    # ---- tokens ------------------------------------------------------------------------------
    def peek(self) -> str:
        """The next character that is not whitespace (the cursor moved onto it); "" at the end."""
        while True:
            self.pos = _ws(self.buf, self.pos).end()
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos: self.pos + 1]
            self.more()

    def comma(self) -> None:
        """Step over a "," the caller has peeked, keeping it until the next value is read."""
        self.keep = self.pos
        self.pos += 1

    def value(self, state: str) -> Any:
        """Parse the value at the cursor and step over it. `state`: a JSON text that leaves
        `json.loads` where this value is expected (for `fail`)."""
        while True:
            buf, pos = self.buf, self.pos
            try:
                value, end = _scan(buf, pos)
            except StopIteration as exc:
                if not self.eof and exc.value >= len(buf) - _MARGIN:
                    self.more()
                    continue
                if exc.value == pos:
                    raise self.fail(state) from None
                raise self.syntax("Expecting value", exc.value) from None
            except json.JSONDecodeError as exc:
                if not self.eof and (exc.pos >= len(buf) - _MARGIN
                                     or exc.msg.startswith("Unterminated string")):
                    self.more()
                    continue
                raise self.syntax(exc.msg, exc.pos) from None
            except ValueError as exc:
                # Not syntax: an integer over Python's digit limit. Its digit count is in
                # the message, so only the whole number may say it.
                if not self.eof:
                    self.more()
                    continue
                raise JsonSyntax(str(exc)) from None
            if end >= len(buf) and not self.eof:
                self.more()  # a number may go on in the next block
                continue
            self.pos = end
            self.keep = None
            return value

    def elements(self, lines: bool, too_deep: Callable[[], Any]
                 ) -> Iterator[tuple[int, Any]]:
        """(line, value) for each element of the array whose "[" the cursor is just past, the
        cursor left after its "]". `lines`: count each element's line (else 0). An element
        nested deeper than the scanner recurses is stepped over and given as `too_deep()`."""
        if self.peek() == "]":
            self.pos += 1
            return
        state = "["
        while True:
            line = self.line() if lines else 0
            try:
                value = self.value(state)
            except RecursionError:
                value = too_deep()
                self.skip_value()
            yield line, value
            char = self.peek()
            if char == ",":
                self.comma()
                self.peek()
                state = "[0,"
            elif char == "]":
                self.pos += 1
                return
            else:
                raise self.fail("[0")

    def skip_value(self) -> None:
        """Step over the array or object at the cursor without parsing it (it is nested too
        deep to parse): brackets are counted outside strings. JsonSyntax if it never ends."""
        depth = 0
        offset = 0  # from the cursor: `more` may move the text under it
        while True:
            buf, idx = self.buf, self.pos + offset
            match = _structural.search(buf, idx)
            if match is not None and match.group() == '"':
                string = _string_end.match(buf, match.start())
                if string is None:
                    match = None
                else:
                    offset = string.end() - self.pos
                    continue
            if match is None:
                if self.eof:
                    raise JsonSyntax("嵌套层数过多")
                self.more()
                continue
            offset = match.end() - self.pos
            depth += 1 if match.group() in "[{" else -1
            if depth == 0:
                self.pos += offset
                self.keep = None
                return
            if depth < 0:
                raise JsonSyntax("嵌套层数过多")

    def fail(self, state: str) -> JsonSyntax:
        """What `json.loads` says about the text at the cursor, when `state` is what it has
        read before it (a minimal document in the same place: '{"":0' after a member of an
        object, '[0,' after a comma in an array …)."""
        text = f"{state} {self.buf[self.pos: self.pos + _TAIL]}"
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.pos > len(state):
                return self.syntax(exc.msg, self.pos + exc.pos - len(state) - 1)
            if self.keep is not None:  # at the comma before (Python ≥ 3.13: trailing comma)
                return self.syntax(exc.msg, self.keep)
            return self.syntax(exc.msg, self.pos)
        except ValueError:
            pass
        return self.syntax("Expecting value", self.pos)
