"""The live bot with `[llm]` on: a burst of messages never waits for the endpoint.

A real OpenAI-compatible server on 127.0.0.1 (tests/test_llm.py: FakeLLM) that holds every
answer until the burst has been fed; the real `Bot` fed a burst of triggering messages from
different members. Every message must be handled while the polishes are out, the operator
must get every plain script before the burst ends, and the polished scripts must follow
(stored on the rows they replace). Orders of events, never a clock: the machine is shared.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.llm import LlmConfig, Polisher
from bot.runner import Bot
from bot.transports.base import Event, EventHandler, RecordingSends
from handlers.events import MessageEvent, MessageType
from handlers.live_polish import store_polish
from handlers.suggest import SuggestionView, suggest_for_member
from storage.suggestions import SuggestionStore
from tests.suggest_fixtures import NOW, Community, ago
from tests.test_llm import TEXT, FakeLLM, fake  # noqa: F401  (the fixture)

OPERATOR = "运营小美"
# How long a gated answer waits for the burst to end before giving up (a bot that blocks on
# the polish makes it give up: the test then fails on `gate_timeouts`, not on a clock).
GATE_FALLBACK = 20.0
# Two newcomers ask (a purchase intent and a welcome each: four scripts, as many as the
# endpoint is asked about at once), then chat on; the chat must not wait for the scripts.
QUESTIONS = ["这款奶粉多少钱？有没有优惠？", "辅食机好用吗？哪里买？"]
CHAT = ["好的", "哈哈哈", "收到", "谢谢", "周末一起去吃火锅吧"]


@dataclass
class BurstTransport(RecordingSends):
    """Delivers `events` back to back, then calls `fed`; logs in order what happened: each
    event handled, each send, the end of the burst."""

    events: list[Event]
    fed: Callable[[], None] = lambda: None
    name: str = "burst"
    self_id: str | None = "wxid_bot"
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    async def run(self, on_event: EventHandler) -> None:
        for event in self.events:
            await on_event(event)
            self.log.append("handled")
        self.log.append("fed")
        self.fed()

    async def send_private(self, user_id: str, text: str) -> None:
        await super().send_private(user_id, text)
        self.log.append("follow" if "润色版" in text else "plain")

    async def stop(self) -> None:
        return None


def burst(now: datetime) -> list[Event]:
    lines = [(f"wxid_mom{i}", text) for i, text in enumerate(QUESTIONS)]
    lines += [(f"wxid_mom{i % 2}", text) for i, text in enumerate(CHAT * 2)]
    return [MessageEvent(id=f"m{n}", ts=now + timedelta(milliseconds=n), chat="1001@chatroom",
                         chat_name="宝妈福利群", is_group=True, sender=sender,
                         sender_name=sender[-4:], type=MessageType.TEXT, text=text,
                         origin="test")
            for n, (sender, text) in enumerate(lines)]


@pytest.fixture
def gated(fake: FakeLLM) -> Iterator[FakeLLM]:  # noqa: F811
    # answers wait for the end of the burst; a bot that waited for an answer before handling
    # the next message would sit out the whole fallback delay, counted in gate_timeouts
    fake.mode, fake.delay = "gate", GATE_FALLBACK
    yield fake


def test_a_burst_is_handled_without_waiting_for_the_polish(gated: FakeLLM,
                                                         tmp_path: Path) -> None:
    cfg = tmp_path / "siyu.toml"
    cfg.write_text(f'[bot]\noperators = ["{OPERATOR}"]\nsegment_every_hours = 0\n'
                   f'reactivation_every_hours = 0\nweekly_report = ""\n'
                   f'[llm]\nbase_url = "{gated.url}"\nmodel = "tiny"\n'
                   f'timeout = {2 * GATE_FALLBACK}\n', encoding="utf-8")
    settings = load_settings(str(cfg), db=f"sqlite:///{tmp_path / 'bot.db'}")
    transport = BurstTransport(burst(datetime.now(UTC)), fed=gated.gate.set)
    bot = Bot(settings, transport)
    asyncio.run(bot.run())
    # No answer could come before the burst was fed, and none had to wait out the fallback:
    # every message was handled while its script's polish was still out.
    assert gated.gate_timeouts == 0
    rows = SuggestionStore(bot.app.store.engine).all()
    assert len(rows) == 2 * len(QUESTIONS)
    assert all(to == OPERATOR for _, to, _ in transport.sent)
    plain = [t for _, _, t in transport.sent if "润色版" not in t]
    follow = [t for _, _, t in transport.sent if "润色版" in t]
    assert len(plain) == len(rows) and not any("（已润色）" in t for t in plain)
    # The plain scripts went out while the burst was being fed, every polished one after it
    # (the bot waited for them at shutdown), each replacing its own script.
    fed = transport.log.index("fed")
    assert transport.log[:fed].count("plain") == len(rows)
    assert transport.log[fed:].count("follow") == len(rows)
    assert len(follow) == len(rows) and len(gated.requests) == len(rows)
    assert all("【润色】" in t for t in follow)
    assert all(r.polished and r.text.startswith("【润色】") and r.status == "pending"
               for r in rows)
    for r in rows:
        assert any(f"#{r.id} " in t and r.text in t for t in follow)


def _view(c: Community, sender: str, text: str) -> SuggestionView:
    c.say(sender, "大家好", ago(30), "小王")
    c.say(sender, text, ago(hours=1))
    c.commit()
    (v,) = suggest_for_member(c.store, c.settings, c.labels, c.member(sender), NOW)
    return v


def test_a_late_polish_never_overwrites_what_moved_on(tmp_path: Path) -> None:
    c = Community(tmp_path)
    v = _view(c, "wxid_1", "这款奶粉的成分安全吗？")
    ss = SuggestionStore(c.store.engine)
    # Still pending with the script that was polished: the row takes the polish.
    stored = store_polish(c.store, v, "润色后的话术")
    assert stored is not None and stored.row.text == "润色后的话术" and stored.row.polished
    assert stored.row.template_text == v.row.template_text
    # The operator already sent it: the polish arrives too late and changes nothing.
    w = _view(c, "wxid_2", "辅食机好用吗？")
    assert ss.set_status(w.row.id, "sent", NOW)
    assert store_polish(c.store, w, "晚到的润色") is None
    assert ss.get(w.row.id).text == w.row.text  # type: ignore[union-attr]
    # A newer trigger rewrote the open draft meanwhile: the old script's polish is dropped.
    x = _view(c, "wxid_3", "婴儿车有推荐吗？")
    ss.update_open(x.row.id, {"text": "新的话术"})
    assert store_polish(c.store, x, "旧话术的润色") is None
    assert ss.get(x.row.id).text == "新的话术"  # type: ignore[union-attr]


def test_apolish_awaits_and_falls_back_like_polish(fake: FakeLLM) -> None:  # noqa: F811
    async def two(p: Polisher) -> list[Any]:
        try:
            return [await p.apolish(TEXT, name="朵朵妈"), await p.apolish("你好")]
        finally:
            await p.aclose()

    cfg = LlmConfig(base_url=fake.url, model="tiny", timeout=0.5)
    ok = asyncio.run(two(Polisher(cfg)))
    assert all(o.polished for o in ok) and "朵朵妈" in ok[0].text
    assert "朵朵妈" not in fake.requests[0]["raw"]
    fake.mode = "slow"
    late = asyncio.run(two(Polisher(cfg)))
    assert [o.fallback for o in late] == ["timeout", "timeout"] and late[0].text == TEXT


def test_a_burst_beyond_the_endpoint_stays_plain() -> None:
    """One request at a time, room for three: the fourth script is not queued at all, and the
    ones whose turn comes after more than the timeout are not sent (their answer would come
    long after the operator saw the plain script)."""
    from types import SimpleNamespace

    from bot.background import Background
    from bot.llm import Polished
    from bot.polish import LivePolish
    from handlers.live import Outgoing

    asked: list[str] = []

    class SlowPolisher:
        config = LlmConfig(base_url="http://127.0.0.1:9", model="m", timeout=0.2)

        async def apolish(self, text: str, **_: Any) -> Polished:
            asked.append(text)
            await asyncio.sleep(0.3)
            return Polished(text, False, "timeout")

        async def aclose(self) -> None:
            return None

    async def run() -> LivePolish:
        background = Background()
        lp = LivePolish(None, SlowPolisher(), None, background,  # type: ignore[arg-type]
                        concurrency=1, backlog=3)
        out = [Outgoing(OPERATOR, suggestion=SimpleNamespace(  # type: ignore[arg-type]
            row=SimpleNamespace(id=i, polished=False, text=f"话术{i}"), name="x",
            member_id=f"m{i}")) for i in range(4)]
        assert lp.follow(out) == out  # the plain scripts go out unchanged, at once
        await background.drain(2.0)
        await lp.close()
        return lp

    lp = asyncio.run(run())
    assert asked == ["话术0"] and lp.skipped == 3
