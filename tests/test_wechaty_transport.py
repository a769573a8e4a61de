"""WechatyTransport against the real Node gateway (mock puppet) on loopback.

Each gateway test starts its own gateway on free ports (python-wechaty's connect logs the mock
user out and in, so clients must not share one) and the real python-wechaty client through
`WechatyTransport`. Without node/node_modules/python-wechaty they skip, except on CI (CI=true),
where they fail: see tests/wechaty_harness.py.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import wechaty_harness as wh
from wechaty_harness import (
    BAOMA_ROOM,
    BAOMA_TOPIC,
    BOT,
    DUODUO,
    MANAGER,
    MANAGERS_ROOM,
    MILI,
    NEWCOMER,
    OPERATOR,
    Gateway,
    GatewayError,
    live_transport,
    require_client,
    require_gateway,
    start_gateway,
)

from bot.transports.wechaty import WechatyTransport
from bot.transports.wechaty_setup import (
    INSTALL_HINT,
    Backoff,
    WechatyNotInstalled,
    WechatyTransportError,
    load_wechaty,
)
from handlers.events import JoinEvent, MessageEvent, MessageType

FAST = Backoff(initial=0.1, factor=2.0, cap=0.4)

# python-wechaty's FileBox serialiser calls the deprecated `logger.warn()`.
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def shared_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    require_gateway()
    gw = start_gateway(tmp_path_factory.mktemp("gateway"))
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def gateway(shared_gateway: Gateway) -> Gateway:
    """The module's gateway, reset to the scripted community; clients take turns on it.

    Starting Node dominates a test's time (about 1 s, more on a busy machine), so tests that
    do not kill their gateway share one.
    """
    if shared_gateway.process is None or shared_gateway.process.poll() is not None:
        shared_gateway.start()
    shared_gateway.reset()
    return shared_gateway


@pytest.fixture
def own_gateway(tmp_path: Path) -> Iterator[Gateway]:
    """A gateway for this test alone, free to kill and restart."""
    require_gateway()
    gw = start_gateway(tmp_path / "gateway")
    try:
        yield gw
    finally:
        gw.stop()


def run(coro_fn, *args):  # type: ignore[no-untyped-def]
    """One event loop per test: pytest-asyncio is not a dependency."""
    return asyncio.run(asyncio.wait_for(coro_fn(*args), 30))


def is_join(member: str):  # type: ignore[no-untyped-def]
    return lambda e: isinstance(e, JoinEvent) and e.member == member


# ---------------------------------------------------------------------------------------------
# Inbound: messages and joins
# ---------------------------------------------------------------------------------------------


def test_group_text_arrives_as_message_event(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with live_transport(gateway, backoff=FAST) as live:
            assert live.transport.self_id == BOT
            mid = gateway.say(DUODUO, BAOMA_ROOM, "@小禾助手 有没有优惠？宝宝8个月了", [BOT, MILI])
            ev = await live.message(mid)
        assert ev.id == mid
        assert (ev.chat, ev.chat_name, ev.is_group) == (BAOMA_ROOM, BAOMA_TOPIC, True)
        assert (ev.sender, ev.sender_name) == (DUODUO, "朵朵妈")
        assert ev.type is MessageType.TEXT
        assert ev.text == "@小禾助手 有没有优惠？宝宝8个月了"
        assert ev.mentions == (BOT, MILI)
        assert ev.is_self is False
        assert ev.origin == "wechaty"
        assert ev.ts.tzinfo is not None
        assert abs(ev.ts - datetime.now(UTC)) < timedelta(seconds=30)

    run(scenario)


def test_private_text_arrives_with_contact_as_chat(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with live_transport(gateway, backoff=FAST) as live:
            mid = gateway.say(MILI, BOT, "你好，上次买的辅食什么时候到？")
            ev = await live.message(mid)
        assert (ev.chat, ev.chat_name, ev.is_group) == (MILI, "米粒妈", False)
        assert (ev.sender, ev.sender_name) == (MILI, "米粒妈")
        assert ev.text == "你好，上次买的辅食什么时候到？"
        assert ev.mentions == ()
        assert ev.is_self is False

    run(scenario)


def test_events_keep_arrival_order(gateway: Gateway) -> None:
    """A group message needs more lookups than a private one; it must not be overtaken."""

    async def scenario() -> list[str]:
        async with live_transport(gateway, backoff=FAST) as live:
            ids = [gateway.say(DUODUO, BAOMA_ROOM, "第一条"),
                   gateway.say(MILI, None, "第二条"),
                   gateway.say(OPERATOR, MANAGERS_ROOM, "第三条"),
                   gateway.say(MANAGER, None, "第四条")]
            await live.message(ids[-1])
            await asyncio.sleep(0.1)
            got = [e.id for e in live.events if isinstance(e, MessageEvent)]
        assert got == ids
        return ids

    run(scenario)


def test_join_produces_join_event(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with live_transport(gateway, backoff=FAST) as live:
            gateway.join(BAOMA_ROOM, NEWCOMER, inviter=OPERATOR)
            ev = await live.wait_for(is_join(NEWCOMER))
            # Someone the community has never seen, brought in by the owner (the default).
            gateway.join(BAOMA_ROOM, "wxid_brandnew01", name="阳阳妈")
            fresh = await live.wait_for(is_join("wxid_brandnew01"))
            # The newcomer can speak in the group right away.
            mid = gateway.say(NEWCOMER, BAOMA_ROOM, "大家好，我是新来的")
            said = await live.message(mid)
        assert isinstance(ev, JoinEvent)
        assert (ev.chat, ev.chat_name) == (BAOMA_ROOM, BAOMA_TOPIC)
        assert (ev.member, ev.member_name) == (NEWCOMER, "小雨妈妈")
        assert (ev.inviter, ev.inviter_name, ev.channel) == (OPERATOR, "小禾客服-安安", "invite")
        assert ev.ts.tzinfo is not None and ev.origin == "wechaty" and ev.id
        assert isinstance(fresh, JoinEvent)
        assert (fresh.member_name, fresh.inviter) == ("阳阳妈", MANAGER)
        assert fresh.id != ev.id
        assert said.sender_name == "小雨妈妈"

    run(scenario)


# ---------------------------------------------------------------------------------------------
# Outbound: what the bot sends reaches the gateway
# ---------------------------------------------------------------------------------------------


def test_sends_reach_the_gateway(gateway: Gateway, tmp_path: Path) -> None:
    chart = tmp_path / "weekly.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))

    async def scenario() -> list[MessageEvent]:
        async with live_transport(gateway, backoff=FAST) as live:
            await live.transport.send_private(OPERATOR, "朵朵妈在问优惠，建议回复：…")
            await live.transport.send_group(BAOMA_ROOM, "欢迎新朋友！", [NEWCOMER, DUODUO])
            await live.transport.send_image(MANAGER, chart)
            echoes = [await live.wait_for(
                lambda e, c=chat: isinstance(e, MessageEvent) and e.is_self and e.chat == c)
                for chat in (OPERATOR, BAOMA_ROOM, MANAGER)]
        return [e for e in echoes if isinstance(e, MessageEvent)]

    echoes = run(scenario)
    sent = gateway.sent()
    assert [(s["room"], s["to"], s["type"]) for s in sent] == [
        (None, OPERATOR, "text"), (BAOMA_ROOM, None, "text"), (None, MANAGER, "image")]
    assert sent[0]["text"] == "朵朵妈在问优惠，建议回复：…"
    assert sent[0]["mentions"] == []
    # WeChat shows a mention as "@名字" in the text; the ids travel beside it.
    assert sent[1]["mentions"] == [NEWCOMER, DUODUO]
    assert sent[1]["text"].endswith("欢迎新朋友！")
    assert "@朵朵妈" in sent[1]["text"]
    assert sent[2]["file"]["name"] == "weekly.png"
    assert sent[2]["file"]["size"] == chart.stat().st_size
    # The bot's own messages come back marked is_self, filed under the other side's chat.
    assert [e.id for e in echoes] == [s["id"] for s in sent]
    assert all(e.is_self and e.sender == BOT for e in echoes)
    assert echoes[0].chat_name == "小禾客服-安安"
    assert echoes[2].type is MessageType.IMAGE
    assert gateway.sent(since=2) == sent[2:]


def test_send_image_refuses_a_missing_file(gateway: Gateway, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with live_transport(gateway, backoff=FAST) as live:
            with pytest.raises(FileNotFoundError):
                await live.transport.send_image(MANAGER, tmp_path / "nope.png")

    run(scenario)
    assert gateway.sent() == []


# ---------------------------------------------------------------------------------------------
# Supervision
# ---------------------------------------------------------------------------------------------


def test_reconnects_after_the_gateway_restarts(own_gateway: Gateway) -> None:
    gateway = own_gateway

    async def scenario() -> None:
        async with live_transport(gateway, backoff=FAST) as live:
            transport = live.transport
            first = gateway.say(DUODUO, BAOMA_ROOM, "在吗")
            await live.message(first)
            port, control_port = gateway.port, gateway.control_port

            gateway.kill()
            await asyncio.wait_for(_until(lambda: not transport.connected), 5)
            with pytest.raises(ConnectionError):
                # Nothing to send through while down: a clear error after send_timeout.
                transport.send_timeout = 0.2
                await transport.send_private(OPERATOR, "掉线时发送")
            transport.send_timeout = 10.0
            await asyncio.sleep(0.5)  # a few failed attempts at the shortened backoff

            await asyncio.to_thread(gateway.start)  # same ports, same token
            assert (gateway.port, gateway.control_port) == (port, control_port)
            await asyncio.wait_for(transport.wait_connected(), 10)
            assert transport.logins == 2 and transport.sessions >= 2
            again = gateway.say(DUODUO, BAOMA_ROOM, "刚才断线了吗？")
            ev = await live.message(again)
            assert ev.chat == BAOMA_ROOM and ev.text == "刚才断线了吗？"
            await transport.send_private(OPERATOR, "恢复了")
        assert [s["text"] for s in gateway.sent()] == ["恢复了"]

    run(scenario)


def test_a_logout_and_relogin_keeps_the_connection(gateway: Gateway) -> None:
    """A real account can be logged out and scanned back in while the gateway stays up."""

    async def scenario() -> None:
        async with live_transport(gateway, backoff=FAST) as live:
            transport = live.transport
            gateway.relogin(after_ms=300)
            await asyncio.wait_for(_until(lambda: not transport.connected), 5)
            await asyncio.wait_for(transport.wait_connected(), 5)
            assert (transport.sessions, transport.logins) == (1, 2)
            ev = await live.message(gateway.say(MILI, None, "又能收到了吗"))
            assert ev.chat == MILI
            await transport.send_private(MILI, "能收到")
        assert [s["text"] for s in gateway.sent()] == ["能收到"]

    run(scenario)


def test_a_rejected_token_stops_the_transport(gateway: Gateway) -> None:
    async def scenario() -> None:
        transport = WechatyTransport(gateway.endpoint, "not-the-token", backoff=FAST)

        async def ignore(_event: object) -> None:
            return None

        with pytest.raises(WechatyTransportError, match="rejected the token"):
            await asyncio.wait_for(transport.run(ignore), 10)

    run(scenario)


def test_stop_while_the_gateway_is_unreachable() -> None:
    """No gateway at all: run() keeps retrying (logging each attempt) until stop()."""
    require_client()
    from bot.transports.wechaty_setup import free_loopback_port

    async def scenario() -> None:
        transport = WechatyTransport(f"127.0.0.1:{free_loopback_port()}", "t", backoff=FAST,
                                     send_timeout=0.1)

        async def ignore(_event: object) -> None:
            return None

        running = asyncio.create_task(transport.run(ignore))
        await asyncio.sleep(0.5)
        assert not running.done() and not transport.connected
        with pytest.raises(ConnectionError, match="not connected"):
            await transport.send_group(BAOMA_ROOM, "hi")
        started = time.monotonic()
        await transport.stop()
        await asyncio.wait_for(running, 2)
        assert time.monotonic() - started < 1.0

    run(scenario)


def test_backoff_doubles_up_to_the_cap() -> None:
    b = Backoff(initial=1.0, factor=2.0, cap=10.0)
    assert [b.delay(n) for n in range(6)] == [0.0, 1.0, 2.0, 4.0, 8.0, 10.0]


# ---------------------------------------------------------------------------------------------
# The gateway itself and the harness rules
# ---------------------------------------------------------------------------------------------


def test_gateway_control_errors_and_clean_exit(tmp_path: Path) -> None:
    require_gateway()
    gw = start_gateway(tmp_path / "gw")
    try:
        assert gw.health() == {"ok": True, "loggedIn": False}
        community = gw.community()
        assert community["bot"]["id"] == BOT
        assert {r["id"] for r in community["rooms"]} == {BAOMA_ROOM, MANAGERS_ROOM}
        roles = {c["role"] for c in community["contacts"]}
        assert {"operator", "manager", "member"} <= roles
        with pytest.raises(GatewayError, match="409"):
            gw.say(DUODUO, BAOMA_ROOM, "no client yet")
    finally:
        gw.stop()
    assert gw.process is not None and gw.process.returncode == 0
    assert gw.log_path.read_text(encoding="utf-8").splitlines()[-1] == "STOP"
    # Only its own logs are left in its TMPDIR: the file-box registry was removed.
    assert sorted(p.name for p in (tmp_path / "gw").iterdir()) == ["gateway-1.log"]


def test_gateway_control_rejects_bad_requests(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with live_transport(gateway, backoff=FAST):
            for bad, reason in [
                (lambda: gateway.say("wxid_nobody", BAOMA_ROOM, "hi"), "unknown contact"),
                (lambda: gateway.say(NEWCOMER, BAOMA_ROOM, "hi"), "not a member"),
                (lambda: gateway.say(DUODUO, "000@chatroom", "hi"), "unknown room"),
                (lambda: gateway.say(DUODUO, None, "hi", [MILI]), "only room messages"),
                (lambda: gateway.say(BOT, BAOMA_ROOM, "hi"), "speaks through the client"),
                (lambda: gateway.join(BAOMA_ROOM, DUODUO), "already"),
                (lambda: gateway.join(BAOMA_ROOM, "wxid_nobody"), "to create one"),
            ]:
                with pytest.raises(GatewayError, match=reason):
                    bad()

    run(scenario)


def test_missing_client_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wechaty", None)
    monkeypatch.setitem(sys.modules, "wechaty_puppet.schemas.puppet", None)
    with pytest.raises(WechatyNotInstalled) as info:
        load_wechaty()
    message = str(info.value)
    assert INSTALL_HINT in message and "\n" not in message
    with pytest.raises(WechatyNotInstalled):
        WechatyTransport("127.0.0.1:1", "t")


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                             ("", pytest.skip.Exception)])
def test_missing_gateway_skips_locally_but_fails_on_ci(
        monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]) -> None:
    monkeypatch.setattr(wh, "gateway_missing_reason", lambda: "node is not installed")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="node is not installed"):
        wh.require_gateway()


async def _until(condition, interval: float = 0.02) -> None:  # type: ignore[no-untyped-def]
    while not condition():
        await asyncio.sleep(interval)
