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

    from bot.runner import BotConfig, make_transport, roles_warning, run_bot

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warning = roles_warning(BotConfig.from_settings(settings), settings)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    transport = make_transport(args.transport, settings)
    if args.transport == "console" and sys.stdin.isatty():
        print("控制台模式：输入「名字: 内容」模拟群聊，「私聊 名字: 内容」模拟私聊，"
              "「:入群 名字」模拟入群，Ctrl-D 结束。")
    asyncio.run(run_bot(settings, transport))
    return 0
