"""`siyu run [--transport console|wechaty]`: the live bot."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 60


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run", help="启动机器人（console 默认：在终端里模拟群聊；wechaty：连接网关）")
    p.add_argument("--transport", default="console", choices=["console", "wechaty"])
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Any) -> int:
    import asyncio
    import logging
    import sys

    from bot.cliutil import say
    from bot.runner import make_transport, run_bot

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    transport = make_transport(args.transport, settings)
    if args.transport == "console" and sys.stdin.isatty():
        say("控制台模式：输入「名字: 内容」模拟群聊，「私聊 名字: 内容」模拟私聊，"
              "「:入群 名字」模拟入群，Ctrl-D 结束。")
    asyncio.run(run_bot(settings, transport))
    return 0
