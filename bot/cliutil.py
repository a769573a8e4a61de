"""Helpers shared by every `siyu` command module: errors, --as-of, JSON output, members.

Command modules (the package bot/cli/) import from here, so a new command never has to import
the CLI entry point itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.app import App
    from handlers.settings import Settings
    from storage.members import MemberRow


class CliError(Exception):
    """A one-line reason for the user; exit code 1."""


def parse_as_of(value: str | None, tz: ZoneInfo) -> datetime:
    """ISO 8601; a naive time is read in the community's zone; a bare date means its end."""
    if not value:
        return datetime.now(tz)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"--as-of: 无法解析时间 {value!r}"
                       "（示例 2026-11-20 或 2026-11-20T20:00+08:00）") from exc
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
        names = "、".join(f"{r.name}({r.member_id})" for r in rows[:8])
        raise CliError(f"有 {len(rows)} 位成员匹配 {query!r}：{names}；请用成员 ID")
    return rows[0]
