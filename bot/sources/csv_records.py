"""CSV rows by physical line, where one stray quote costs its own row and nothing more.

A field that opens with `"` runs until the next `"`, across line breaks: that is how exports
hold multi-line texts and app-message XML. A single stray opening quote (a hand edit, a
broken exporter) therefore swallows the rest of the file into one field, and the csv module
hands back one row of the wrong width: 998 rows of 1,000 gone behind one reject. So a record
that spans lines is checked: when it does not fit (wrong width, or the csv module's own
error) — or it has run on for more than `RUNAWAY_LINES` lines — and lines inside it read on
their own as rows that fit, it is a runaway quote. Its first line becomes one reject, and
reading starts again on the next line, so every row it swallowed is read as itself.

A multi-line record with no complete row inside it is left as it was (one row, or one reject
for its width): that is a real multi-line field, or a row broken in some other way.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterator
from typing import TextIO

# Lines a record may span before its continuation lines are checked for complete rows.
RUNAWAY_LINES = 100


class _Runaway(Exception):
    """Raised through the csv reader to stop it inside a record that swallows rows."""


class _Lines:
    """The file's lines, numbered, with the lines of the current record kept to read again."""

    def __init__(self, fh: TextIO, fits: Callable[[list[str]], bool], delimiter: str) -> None:
        self.fh = fh
        self.fits = fits
        self.delimiter = delimiter
        self.back: deque[str] = deque()
        self.taken: list[str] = []
        self.next_line = 1  # the number of the line __next__ hands out next

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.back.popleft() if self.back else next(self.fh)
        self.taken.append(line)
        self.next_line += 1
        if len(self.taken) == RUNAWAY_LINES + 1 and swallows_rows(self.taken[1:], self.fits,
                                                                  self.delimiter):
            raise _Runaway
        return line

    def again_from(self, start: int) -> None:
        """Hand out the current record's lines after its first one again, from `start` + 1."""
        self.back.extendleft(reversed(self.taken[1:]))
        self.next_line = start + 1


def swallows_rows(lines: list[str], fits: Callable[[list[str]], bool], delimiter: str = ","
                  ) -> bool:
    """Does any of `lines`, read on its own, make a complete row?"""
    for line in lines:
        if '"' in line:
            continue  # a line with quotes of its own proves nothing alone
        try:
            row = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if row and fits(row):
            return True
    return False


def csv_records(fh: TextIO, fits: Callable[[list[str]], bool], delimiter: str = ","
                ) -> Iterator[tuple[int, list[str] | str]]:
    """(start line, row) pairs, or (start line, reason) for a row that cannot be read.

    `fits` says whether a row has a usable shape (its width); it decides, for a record
    spanning lines, between one multi-line row and a runaway quote (see the module doc).
    Blank lines are skipped, as the csv module itself does. `delimiter`: a tab for Excel's
    "Unicode 文本" (bot/sources/business.py).
    """
    lines = _Lines(fh, fits, delimiter)
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        lines.taken = []
        start = lines.next_line
        problem: str | None = None
        row: list[str] | None = None
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem = f"CSV 格式错误（{exc}）"
        except _Runaway:
            problem = "runaway"
        spanned = len(lines.taken)
        if spanned > 1 and (problem == "runaway" or (
                (row is None or not fits(row)) and swallows_rows(lines.taken[1:], fits,
                                                             delimiter))):
            more = "多于 " if problem == "runaway" else ""
            yield start, (f"引号未闭合：从这一行开始的字段吞进了后面{more} {spanned - 1} 行"
                          "（其中有完整的行）；只跳过这一行，后面的行照常读取")
            lines.again_from(start)
            reader = csv.reader(lines, delimiter=delimiter)
            continue
        if row is None:
            yield start, problem or "CSV 格式错误"
        elif row:
            yield start, row
