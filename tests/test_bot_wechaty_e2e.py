"""The whole bot over the real wechaty path: python-wechaty ↔ Node gateway on loopback.

One gateway, one bot (real `Bot`, real `WechatyTransport`, real SQLite file), a scripted
conversation, and assertions on what the gateway saw the bot send and what the database holds.
Skips without node/node_modules/python-wechaty, but fails on CI (CI=true).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from wechaty_harness import (
    BAOMA_ROOM,
    DUODUO,
    MANAGER,
    MILI,
    OPERATOR,
    Gateway,
    require_gateway,
    start_gateway,
)

from bot.config import load_settings
from bot.runner import Bot
from bot.transports.wechaty import WechatyTransport
from bot.transports.wechaty_setup import Backoff

pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


def wait_for(gw: Gateway, pred: Callable[[dict[str, Any]], bool], since: int,
             timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in gw.sent(since):
            if pred(item):
                return item
        time.sleep(0.1)
    raise AssertionError(f"nothing matched; sent: {gw.sent(since)}")


def test_bot_over_wechaty_end_to_end(tmp_path: Path) -> None:
    require_gateway()
    gw = start_gateway(tmp_path / "gw")
    cfg = tmp_path / "siyu.toml"
    cfg.write_text(f'[bot]\nmanagers = ["{MANAGER}"]\noperators = ["{OPERATOR}"]\n',
                   encoding="utf-8")
    db = tmp_path / "bot.db"
    settings = load_settings(str(cfg), db=f"sqlite:///{db}")

    async def scenario() -> None:
        transport = WechatyTransport(gw.endpoint, gw.token, backoff=Backoff(0.1, 2.0, 0.5),
                                     cache_dir=tmp_path / "cache")
        bot = Bot(settings, transport)
        task = asyncio.create_task(bot.run())
        try:
            await transport.wait_connected(30)

            def talk(sender: str, to: str | None, text: str) -> int:
                mark = len(gw.sent())
                gw.say(sender, to, text)
                return mark

            # 1. a group message updates the persona
            mark = talk(DUODUO, BAOMA_ROOM, "我在杭州，我家宝宝8个月了，有没有宝宝辅食推荐？")
            await asyncio.to_thread(wait_for, gw, lambda s: s.get("to") == OPERATOR, mark)
            con = sqlite3.connect(db)
            texts = [r[0] for r in con.execute(
                "SELECT m.text FROM message m JOIN member b ON b.id = m.member_pk "
                "WHERE b.member_id = ?", (DUODUO,))]
            con.close()
            assert texts == ["我在杭州，我家宝宝8个月了，有没有宝宝辅食推荐？"]

            # 2. a complaint produces a private suggestion to the operator
            mark = talk(MILI, BAOMA_ROOM, "快递三天了还没到，客服也不回，太失望了")
            sent = await asyncio.to_thread(
                wait_for, gw, lambda s: s.get("to") == OPERATOR and "服务补救" in s["text"],
                mark)
            assert sent["room"] in (None, "") and "快递" in sent["text"]

            # 3. a manager command returns a summary (privately)
            mark = talk(MANAGER, None, "/分群")
            sent = await asyncio.to_thread(
                wait_for, gw, lambda s: s.get("to") == MANAGER and "分群摘要" in s["text"], mark)
            assert "生命周期" in sent["text"]

            # 4. a member's privacy command sent in the group is answered privately
            mark = talk(DUODUO, BAOMA_ROOM, "/我的数据")
            sent = await asyncio.to_thread(
                wait_for, gw, lambda s: s.get("to") == DUODUO and "保存的关于你的数据" in s["text"],
                mark)
            assert not sent.get("room") and "杭州" in sent["text"]

            # 5. a non-manager is refused, privately
            mark = talk(MILI, BAOMA_ROOM, "/报告")
            sent = await asyncio.to_thread(
                wait_for, gw, lambda s: s.get("to") == MILI and "只对" in s["text"], mark)
            assert not sent.get("room")

            # nothing the bot sent went into the member group
            assert all(not s.get("room") for s in gw.sent())
        finally:
            await transport.stop()
            await asyncio.wait_for(task, 30)

    try:
        asyncio.run(scenario())
    finally:
        gw.stop()
