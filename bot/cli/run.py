"""`siyu run [--transport console|wechaty] [--write]`: the live bot.

Trying the bot in the console must never change real data by accident: what is typed there
makes members, messages and scripts. So the console works on a scratch copy of the database
(SQLite's backup API: a consistent copy even while another process writes), and says so on
start; the stored members are all there, so a typed name reaches them. `--write` is the
explicit way to let the console write into the database itself. The Wechaty transport is the
real bot and always writes.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.cliutil import CliError

ORDER = 60


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run", help="启动机器人（console 默认：在终端里模拟群聊；wechaty：连接网关）")
    p.add_argument("--transport", default="console", choices=["console", "wechaty"],
                   help="console：终端试聊（默认，使用数据库的临时副本）；wechaty：连接网关")
    p.add_argument("--write", action="store_true",
                   help="控制台试聊直接写入数据库（默认只写临时副本，正式数据不变）")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Any) -> int:
    import asyncio
    import logging
    import shutil
    import sys

    from bot.cliutil import say
    from bot.runner import BotConfig, make_transport, roles_warning, run_bot

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warning = roles_warning(BotConfig.from_settings(settings), settings)
    if warning:
        say(warning, err=True)
    scratch: Path | None = None
    if args.transport == "console" and not args.write:
        scratch, settings = scratch_copy(settings)
    transport = make_transport(args.transport, settings)
    if args.transport == "console" and sys.stdin.isatty():
        say("控制台模式：输入「名字: 内容」模拟群聊，「私聊 名字: 内容」模拟私聊，"
              "「:入群 名字」模拟入群，Ctrl-D 结束。")
    try:
        asyncio.run(run_bot(settings, transport))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch.parent, ignore_errors=True)
    return 0


def scratch_copy(settings: Any) -> tuple[Path, Any]:
    """A temporary copy of the SQLite database for the console, announced on stderr."""
    import sqlite3
    import tempfile

    from bot.cliutil import say
    from storage.db import display_url, sqlite_path

    path = sqlite_path(settings.db)
    if path is None:
        raise CliError(f"控制台试聊不会写入 {display_url(settings.db)}（不是 SQLite 文件，"
                       "无法做临时副本）；确认要把试聊写进这个数据库，请加 --write")
    scratch = Path(tempfile.mkdtemp(prefix="siyu-console-")) / "console.db"
    if path.exists():
        src, dst = sqlite3.connect(path), sqlite3.connect(scratch)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        where = f"数据库 {path} 的临时副本"
    else:
        where = f"一个空的临时数据库（{path} 不存在）"
    say(f"控制台试聊使用{where}：试聊内容不会写入正式数据，结束后副本删除。"
        "要写入正式数据库，请加 --write。", err=True)
    return scratch, replace(settings, db=f"sqlite:///{scratch}")
