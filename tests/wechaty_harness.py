"""Run the real Node Wechaty gateway (scripts/wechaty-gateway) from Python: tests and sandbox.

`start_gateway(tmp_dir)` starts `gateway.mjs` on free loopback ports with its own TMPDIR and
returns a `Gateway` handle: `.endpoint` and `.token` for `WechatyTransport`, `.control_url`, and
`.say()`, `.join()`, `.sent()` over the gateway's HTTP control channel, `.restart()` on the
same ports, `.kill()` to drop it hard, and `.stop()`.

Without Node or the gateway's node_modules the tests skip, except on CI (`CI=true`), where a
missing gateway is a broken build and must fail: `require_gateway()` is that rule, written once.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.sandbox import (  # noqa: F401  (re-exported for the tests)
    BOT,
    GATEWAY_DIR,
    Gateway,
    GatewayError,
    gateway_missing_reason,
    start_gateway,
)
from bot.transports.base import Event
from handlers.events import MessageEvent

if TYPE_CHECKING:
    from bot.transports.wechaty import WechatyTransport

# Where python-wechaty makes its (empty) cache dir when the tests are first to import it,
# instead of the user's ~/.cache.
CLIENT_CACHE_DIR = Path(tempfile.gettempdir()) / "siyu-companion-tests" / "wechaty-cache"

# The scripted community (scripts/wechaty-gateway/community.json), for readable tests.
OPERATOR = "wxid_bjfmdezhpx6z5b"  # 小禾客服-安安
MANAGER = "wxid_efyvxkkqss6nl4"  # 小禾优选-禾子店长
DUODUO = "wxid_sh85z5vangl3je"  # 朵朵妈
MILI = "wxid_gyqt1nkodry7sf"  # 米粒妈
NEWCOMER = "wxid_n3wxy2mama8qk"  # 小雨妈妈, in no group yet
BAOMA_ROOM = "22293226383@chatroom"  # 小禾优选·宝妈福利群
BAOMA_TOPIC = "小禾优选·宝妈福利群"
MANAGERS_ROOM = "39817264510@chatroom"  # 小禾优选·管理群


def client_missing_reason() -> str | None:
    """Why python-wechaty cannot be imported here, or None when it can."""
    from bot.transports.wechaty_setup import WechatyNotInstalled, load_wechaty

    try:
        load_wechaty(CLIENT_CACHE_DIR)
    except WechatyNotInstalled as exc:
        return str(exc)
    return None


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail on CI (CI=true), which installs everything."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"Wechaty test environment incomplete on CI: {reason}", pytrace=False)
    pytest.skip(f"Wechaty test environment incomplete: {reason}")


def require_gateway() -> None:
    """The Node gateway and python-wechaty must both be usable, else skip (or fail on CI)."""
    reason = gateway_missing_reason() or client_missing_reason()
    if reason is not None:
        _unavailable(reason)


def require_client() -> None:
    """python-wechaty must be importable, else skip (or fail on CI)."""
    reason = client_missing_reason()
    if reason is not None:
        _unavailable(reason)


# ---------------------------------------------------------------------------------------------
# A live transport in the background, for async tests and the sandbox
# ---------------------------------------------------------------------------------------------


class Live:
    """Collects what a running `WechatyTransport` delivers and lets a test wait for it."""

    def __init__(self, transport: WechatyTransport) -> None:
        self.transport = transport
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def on_event(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 5.0) -> Event:
        """The first delivered event matching `predicate`, waiting up to `timeout` seconds."""

        def found() -> Event | None:
            return next((e for e in self.events if predicate(e)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        event = found()
        assert event is not None
        return event

    async def message(self, message_id: str, timeout: float = 5.0) -> MessageEvent:
        """The `MessageEvent` for a platform message id (as `Gateway.say` returns)."""
        event = await self.wait_for(
            lambda e: isinstance(e, MessageEvent) and e.id == message_id, timeout)
        assert isinstance(event, MessageEvent)
        return event


@asynccontextmanager
async def live_transport(gateway: Gateway, timeout: float = 15.0,
                         **options: Any) -> AsyncIterator[Live]:
    """Run a `WechatyTransport` against `gateway` until the block ends; logged in on entry.

    `options` go to `WechatyTransport` (e.g. `backoff=Backoff(0.1, 2, 0.5)`).
    """
    from bot.transports.wechaty import WechatyTransport

    transport = WechatyTransport(gateway.endpoint, gateway.token, **options)
    live = Live(transport)
    running = asyncio.create_task(transport.run(live.on_event))
    connected = asyncio.create_task(transport.wait_connected())
    try:
        done, _ = await asyncio.wait([running, connected], timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if running in done:
            running.result()  # run() ended early: raise its error
            raise GatewayError("the transport stopped before logging in")
        if connected not in done:
            raise GatewayError(f"no login within {timeout:g}s; gateway log: {gateway.log_path}")
        yield live
    finally:
        connected.cancel()
        await transport.stop()
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 10)
