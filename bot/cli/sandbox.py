"""`siyu sandbox`: the real wechaty path without a WeChat account.

Starts the Node gateway (scripts/wechaty-gateway, mock puppet with a scripted 小禾优选
community), runs the bot with the real python-wechaty client against it, and lets you type as
the community's members, console style. What the bot sends comes back from the gateway's log.
Needs a source checkout with `npm ci --prefix scripts/wechaty-gateway` done, and the
`wechaty` extra installed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cliutil import say

if TYPE_CHECKING:
    from bot.sandbox import Gateway

ORDER = 70


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "sandbox", help="本地沙盒：启动模拟微信网关，用真实 wechaty 客户端体验机器人")
    p.add_argument("--keep", action="store_true", help="保留已有的 siyu-sandbox.db（默认重建）")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Any) -> int:
    import asyncio

    return asyncio.run(_sandbox(args, settings))


async def _sandbox(args: argparse.Namespace, settings: Any) -> int:
    import tempfile

    from bot.cliutil import CliError
    from bot.sandbox import GATEWAY_DIR, GatewayError, start_gateway

    db = Path("siyu-sandbox.db")
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="siyu-sandbox-"))
    try:
        gw = start_gateway(tmp)
    except GatewayError as exc:
        raise CliError(f"{GATEWAY_DIR}: 沙盒网关无法启动：{exc}") from exc
    try:
        await _run_with_gateway(gw, settings, db)
    finally:
        gw.stop()
    say(f"沙盒结束。数据保存在 {db}，可用 siyu --db sqlite:///{db} personas 查看。")
    return 0


async def _run_with_gateway(gw: Gateway, settings: Any, db: Path) -> None:
    """The bot on the gateway's community, typed lines in, what it sent printed, until EOF."""
    import asyncio
    import sys
    from dataclasses import replace

    from bot.cliutil import CliError
    from bot.runner import Bot
    from bot.transports.wechaty import WechatyTransport
    from bot.transports.wechaty_setup import WechatyNotInstalled

    community = gw.community()
    people = {c["name"]: c for c in community["contacts"]}
    room = community["rooms"][0]
    roles = {"managers": [c["id"] for c in community["contacts"] if c["role"] == "manager"],
             "operators": [c["id"] for c in community["contacts"] if c["role"] == "operator"]}
    sections = {**settings.sections, "bot": {**settings.sections.get("bot", {}), **roles}}
    settings = replace(settings, db=f"sqlite:///{db}", sections=sections)
    try:
        transport = WechatyTransport(gw.endpoint, gw.token)
    except WechatyNotInstalled as exc:
        raise CliError(str(exc)) from exc
    bot = Bot(settings, transport)
    task = asyncio.create_task(bot.run())
    await transport.wait_connected(30)
    by_id = {c["id"]: c["name"] for c in community["contacts"]}
    by_id.update({r["id"]: r["topic"] for r in community["rooms"]})
    _print_intro(gw, room, people)
    seen = 0
    speaker: str | None = None
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        speaker, acted = _act(gw, line, room, people, speaker)
        if not acted:
            continue
        await asyncio.sleep(0.8)
        seen = _print_sent(gw, seen, by_id)
    await transport.stop()
    await task


def _print_intro(gw: Gateway, room: dict[str, Any], people: dict[str, dict[str, Any]]) -> None:
    say(f"沙盒已连接（网关 {gw.endpoint}）。群：{room['topic']}")
    say("  管理者：" + "、".join(n for n, c in people.items() if c["role"] == "manager"))
    say("  运营：" + "、".join(n for n, c in people.items() if c["role"] == "operator"))
    say("  成员：" + "、".join(n for n, c in people.items() if c["role"] == "member"))
    say("输入「名字: 内容」在群里说话，「私聊 名字: 内容」私聊机器人，"
          "「:入群 名字」模拟入群，Ctrl-D 结束。")


def _act(gw: Gateway, line: str, room: dict[str, Any], people: dict[str, dict[str, Any]],
         speaker: str | None) -> tuple[str | None, bool]:
    """One typed line → a join or a message through the gateway. Returns the speaker later
    lines without a name continue with, and whether anything was sent."""
    from bot.transports.console import _SPEAKER

    if line.startswith((":入群", ":join")):
        parts = line.split()
        name = parts[1] if len(parts) > 1 else "新朋友"
        member = people.get(name, {"id": f"wxid_sandbox_{len(people)}"})["id"]
        gw.join(room["id"], member, name=None if name in people else name)
        return speaker, True
    m = _SPEAKER.match(line)
    if m:
        speaker = m.group(2).strip()
        text, private = m.group(3), bool(m.group(1))
    elif speaker:
        text, private = line, False
    else:
        say("（先写说话人，例如「朵朵妈: 你好」）")
        return speaker, False
    if speaker not in people:
        say(f"（沙盒里没有「{speaker}」，可用：{'、'.join(people)}）")
        return speaker, False
    gw.say(people[speaker]["id"], None if private else room["id"], text)
    return speaker, True


def _print_sent(gw: Gateway, seen: int, by_id: dict[str, str]) -> int:
    """What the bot sent since `seen`, as 「[where] text」 lines; the next `seen`."""
    page = gw.request("GET", f"/sent?since={seen}")
    for sent in page["sent"]:
        where = (f"群 {by_id.get(sent['room'], sent['room'])}" if sent.get("room")
                 else f"私聊→{by_id.get(sent.get('to'), sent.get('to'))}")
        say(f"[{where}] {sent.get('text') or sent.get('file') or ''}")
    return int(page["next"])
