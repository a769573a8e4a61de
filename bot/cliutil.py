"""Helpers shared by every `siyu` command module: errors, --as-of, output, members.

Command modules (the package bot/cli/) import from here, so a new command never has to import
the CLI entry point itself. Every line a person reads goes out through `say`, which shows
control characters instead of sending them to the terminal; --json goes through `print_json`
untouched (JSON escapes them itself).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.app import App
    from handlers.settings import Settings
    from storage.members import MemberRow


class CliError(Exception):
    """A one-line reason for the user; exit code 1."""


# What a terminal acts on instead of showing: C0 controls (ESC starts colour, title and
# clear-screen sequences, BEL rings, CR and LF move the cursor), DEL, C1 controls (U+009B is a
# one-character CSI), the line and paragraph separators, and the bidi controls that reorder
# the text after them (a name can make "退款 100" read "001 款退").
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROLS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"(?!\n)[{_CONTROLS}]")
# As-of times outside these years are refused: date arithmetic a century either side (the
# longest setting in days) must stay inside datetime's years 1–9999.
AS_OF_YEARS = (1900, 2999)


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ ␇ ␊ ␍ ␉ …
    return "\u2421" if code == 0x7F else f"<U+{code:04X}>"


def visible(text: str) -> str:
    """`text` as one line with every control character shown as a symbol: for a value (a
    name, a quote, a file name) placed inside a line or a table cell, so a newline in it
    never splits a row and its width is the width shown."""
    return _UNSAFE.sub(_shown, text)


def terminal_safe(text: str) -> str:
    """`text` with every control character but the newline shown as a symbol: nothing in it
    can act on the terminal (no escape sequence, complete or cut short, gets through)."""
    return _UNSAFE_BUT_NEWLINE.sub(_shown, text)


def visible_lines(lines: Iterable[str]) -> str:
    """Lines built one per entry, joined: a newline inside an entry came with a value (a
    quote, a name), so it is shown, not obeyed."""
    return "\n".join(visible(line) for line in lines)


def say(*values: object, err: bool = False) -> None:
    """Print for a person: the CLI's one way to the terminal (stderr with `err`)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(terminal_safe(" ".join(str(v) for v in values)) + "\n")


def parse_as_of(value: str | None, tz: ZoneInfo) -> datetime:
    """ISO 8601; a naive time is read in the community's zone; a bare date means its end."""
    if not value:
        return datetime.now(tz)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"--as-of: 无法解析时间 {value!r}"
                       "（示例 2026-11-20 或 2026-11-20T20:00+08:00）") from exc
    if not AS_OF_YEARS[0] <= ts.year <= AS_OF_YEARS[1]:
        raise CliError(f"--as-of: 时间 {value!r} 超出范围，年份应在 "
                       f"{AS_OF_YEARS[0]} 到 {AS_OF_YEARS[1]} 之间")
    if len(value) == 10:  # a date: "as of 20 November" includes that whole day
        ts = datetime.combine(ts.date(), time(23, 59, 59))
    return ts if ts.tzinfo else ts.replace(tzinfo=tz)


def add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", help="以此时间为准 (ISO 8601，默认现在)")


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def read_app(settings: Settings) -> App:
    """The app for commands that only read: a missing database is an error, not created."""
    from bot.app import App

    return App(settings, create_db=False)


def resolve_member(app: App, query: str) -> MemberRow:
    rows = app.store.find_members(query)
    if not rows:
        raise CliError(f"找不到成员 {query!r}（可用成员 ID、微信 ID 或昵称）")
    if len(rows) > 1:
        names = "、".join(f"{visible(r.name)}({visible(r.member_id)})" for r in rows[:8])
        raise CliError(f"有 {len(rows)} 位成员匹配 {query!r}：{names}；请用成员 ID")
    return rows[0]
