"""The live WeChat transport: python-wechaty talking to a Wechaty puppet-service gateway.

python-wechaty is an optional dependency (`pip install 'siyu-companion[wechaty]'`) with old pins
(pyee<12, urllib3<2) that the core package must not inherit, so it is imported only when a
`WechatyTransport` is built (bot/transports/wechaty_setup.py: `load_wechaty`, with the
workarounds running it needed).

Its own reconnect (sleep 60 s, then `restart()` on the same instance) fails with "Scheduler is
already running". So this transport supervises the connection itself: a fresh client per
connection, torn down completely when the gateway drops, and reconnected with a capped
exponential backoff. A periodic `ding` probe catches a gateway that hangs without closing the
socket.

Only translation happens here (see bot/transports/__init__.py): Wechaty messages become
`MessageEvent`, room joins become `JoinEvent` (bot/transports/wechaty_events.py), and `send_*`
become `say()` calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.transports.base import Event, EventHandler
from bot.transports.wechaty_events import aware, translate_join, translate_message
from bot.transports.wechaty_setup import (
    LOOPBACK,
    Backoff,
    WechatyTransportError,
    free_loopback_port,
    load_wechaty,
    split_endpoint,
)

log = logging.getLogger(__name__)



class _ConnectionLost(Exception):
    """The current session ended; the supervisor decides whether and when to reconnect."""


class WechatyTransport:
    """Live events from a Wechaty puppet-service gateway, with supervised reconnects.

    `run()` connects, delivers events in arrival order to `on_event`, and keeps reconnecting
    (logging each attempt) until `stop()`. Sends wait up to `send_timeout` seconds for a live
    connection, then raise `ConnectionError`.
    """

    name = "wechaty"

    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        backoff: Backoff | None = None,
        probe_interval: float = 30.0,
        probe_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        send_timeout: float = 10.0,
        translate_timeout: float = 30.0,
        cache_dir: Path | None = None,
    ) -> None:
        self._wechaty = load_wechaty(cache_dir)
        self.endpoint = endpoint
        self._host, self._port = split_endpoint(endpoint)
        self._token = token
        self.backoff = backoff or Backoff()
        self.probe_interval = probe_interval
        self.probe_timeout = probe_timeout
        self.connect_timeout = connect_timeout
        self.send_timeout = send_timeout
        self.translate_timeout = translate_timeout
        self.self_id: str | None = None
        # Counters for tests and the sandbox: gateway connections opened, and logins seen
        # (a reconnect adds one of each; a re-login on the same connection only a login).
        self.sessions = 0
        self.logins = 0
        self._bot: Any = None
        self._scheduler: Any = None
        self._connected = asyncio.Event()
        self._stopping = asyncio.Event()
        # Events in arrival order: each slot is the task translating one gateway event, queued
        # the moment the event is read off the stream, so a slow lookup never reorders them.
        self._pending: asyncio.Queue[asyncio.Task[list[Event]] | None] = asyncio.Queue()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._supervisor: asyncio.Task[None] | None = None

    # -- Transport protocol -----------------------------------------------------------------

    async def run(self, on_event: EventHandler) -> None:
        if self._stopping.is_set():
            return
        self._supervisor = asyncio.create_task(self._supervise(), name="wechaty-supervisor")
        try:
            while True:
                pending = await self._pending.get()
                if pending is None:
                    break
                try:
                    events = await asyncio.wait_for(pending, self.translate_timeout)
                except Exception as exc:
                    log.warning("wechaty: dropped an event that could not be read: %s",
                                _describe(exc))
                    continue
                for event in events:
                    try:
                        await on_event(event)
                    except Exception:
                        # One handler bug must not take the live bot offline.
                        log.exception("wechaty: handler failed on event %s", event.id)
        finally:
            if not self._supervisor.done():
                self._stopping.set()
                await asyncio.gather(self._supervisor, return_exceptions=True)
        self._supervisor.result()  # re-raise a fatal error (e.g. a rejected token)

    async def send_private(self, user_id: str, text: str) -> None:
        bot = await self._live_bot()
        contact = bot.Contact.load(user_id)
        await contact.ready()
        await contact.say(text)

    async def send_group(self, chat_id: str, text: str, mentions: Sequence[str] = ()) -> None:
        """Post in a group; with mentions, the text starts with "@名字" as WeChat shows it."""
        bot = await self._live_bot()
        room = bot.Room.load(chat_id)
        await room.ready()
        await room.say(text, list(mentions) or None)

    async def send_image(self, user_id: str, path: Path) -> None:
        from wechaty_puppet import FileBox

        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such image")
        bot = await self._live_bot()
        contact = bot.Contact.load(user_id)
        await contact.ready()
        await contact.say(FileBox.from_file(str(path)))

    async def stop(self) -> None:
        """End the session cleanly (the gateway logs the bot out) and make `run()` return."""
        self._stopping.set()
        if self._supervisor is not None and self._supervisor is not asyncio.current_task():
            await asyncio.gather(self._supervisor, return_exceptions=True)

    # -- extras for the CLI, the sandbox and tests ------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Until the bot is logged in on a live connection (`TimeoutError` after `timeout`)."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    # -- supervision ------------------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        try:
            while not self._stopping.is_set():
                if failures:
                    delay = self.backoff.delay(failures)
                    log.warning("wechaty: reconnecting to %s in %.2fs (attempt %d)",
                                self.endpoint, delay, failures + 1)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
                    if self._stopping.is_set():
                        break
                log.info("wechaty: connecting to %s", self.endpoint)
                logins_before = self.logins
                try:
                    await self._session()
                except WechatyTransportError:
                    raise
                except _ConnectionLost as exc:
                    log.warning("wechaty: connection to %s lost: %s", self.endpoint, exc)
                except Exception as exc:
                    log.warning("wechaty: connection to %s failed: %s: %s",
                                self.endpoint, type(exc).__name__, exc)
                # A session that logged in resets the schedule; the next try still waits
                # `initial`, since a gateway that just dropped is rarely back at once.
                failures = 1 if self.logins > logins_before else failures + 1
        finally:
            self._connected.clear()
            self._pending.put_nowait(None)
            log.info("wechaty: stopped")

    async def _session(self) -> None:
        """One connection, from TCP check to teardown; returns or raises when it ends."""
        # A cheap non-blocking reachability check first: the client's own check is a
        # synchronous telnet with a 3 s timeout that would block the event loop.
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise _ConnectionLost(f"gateway not reachable ({exc or type(exc).__name__})") from exc
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

        self.sessions += 1
        bot = self._new_client()
        running: asyncio.Task[Any] | None = None
        waiters: list[asyncio.Task[Any]] = []
        try:
            await bot.init_puppet()
            await bot.init_puppet_event_bridge(bot.puppet)
            self._hook_events(bot)
            # PuppetService.start() = stop + start over gRPC, then reads the event stream until
            # it ends: the task finishing is the "gateway dropped" signal.
            running = asyncio.create_task(bot.puppet.start(), name="wechaty-event-stream")
            waiters = [asyncio.create_task(self._stopping.wait()),
                       asyncio.create_task(self._probe(bot))]
            done, _ = await asyncio.wait([running, *waiters],
                                         return_when=asyncio.FIRST_COMPLETED)
            if self._stopping.is_set():
                return
            if running in done:
                exc = running.exception()
                self._raise_if_fatal(exc)
                raise _ConnectionLost(f"event stream ended ({_describe(exc)})")
            for task in waiters:
                if task in done and (exc := task.exception()) is not None:
                    raise exc
        finally:
            await self._teardown(bot, running, waiters)

    async def _probe(self, bot: Any) -> None:
        """Ding the gateway now and then: a hung gateway may never close the socket.

        Any answer, even a gRPC error, proves the gateway alive; only silence past
        `probe_timeout` or a broken channel ends the session. It runs before login too, so a
        gateway that hangs during the handshake is caught as well.
        """
        from grpclib.exceptions import GRPCError

        if self.probe_interval <= 0:
            await asyncio.Event().wait()
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                await asyncio.wait_for(bot.puppet.puppet_stub.ding(data="siyu-probe"),
                                       self.probe_timeout)
            except GRPCError:
                continue
            except TimeoutError:
                raise _ConnectionLost(
                    f"gateway silent: no answer to a probe within {self.probe_timeout:g}s"
                ) from None
            except Exception as exc:
                raise _ConnectionLost(f"probe failed ({_describe(exc)})") from exc

    def _raise_if_fatal(self, exc: BaseException | None) -> None:
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        if isinstance(exc, GRPCError) and exc.status in (Status.UNAUTHENTICATED,
                                                         Status.PERMISSION_DENIED):
            raise WechatyTransportError(
                f"the Wechaty gateway at {self.endpoint} rejected the token ({exc.status.name})"
            ) from exc

    def _new_client(self) -> Any:
        """A fresh Wechaty client: nothing from a dead session is reused."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from wechaty_puppet.schemas.puppet import PuppetOptions

        wechaty = self._wechaty
        # Contacts and rooms are cached on class-level pools shared by every client; entries
        # still point at the previous session's closed gRPC stub, so drop them.
        for cls in (wechaty.Contact, wechaty.Room, wechaty.Tag):
            cls._pool.clear()
        # An in-memory scheduler per client: the default one is a SQLite job store in the
        # cache dir, and one scheduler cannot be started twice (the library's restart bug).
        self._scheduler = AsyncIOScheduler()
        options = wechaty.WechatyOptions(
            puppet="wechaty-puppet-service",
            # Always a fresh PuppetOptions: the dataclass default is one shared instance that
            # the first client writes its token and endpoint into, so a second client in the
            # same process would silently reuse them.
            puppet_options=PuppetOptions(token=self._token, end_point=self.endpoint),
            token=self._token,
            endpoint=self.endpoint,
            host=LOOPBACK,
            port=free_loopback_port(),
            scheduler=self._scheduler,
        )
        bot = wechaty.Wechaty(options)
        self._bot = bot
        return bot

    def _hook_events(self, bot: Any) -> None:
        """Take logins, messages and joins straight off the puppet's event stream, in order.

        The library's own bridge awaits a payload fetch before re-emitting each message, so two
        messages can overtake each other (a group message needs more lookups than a private
        one), and its process-wide id filter would hide a gateway's reused ids: its listeners
        for messages and joins are replaced by synchronous ones that reserve a queue slot first.
        Its login handler fires once per client, so a logout and re-login (a re-scan on a real
        account) would never be seen: login and logout are followed here too.
        """
        stream = bot.puppet._event_stream
        stream.remove_all_listeners("message")
        stream.remove_all_listeners("room-join")
        bot.puppet.on("message", lambda payload: self._reserve(
            self._read_message(bot, payload.message_id), key=payload.message_id))
        bot.puppet.on("room-join", lambda payload: self._reserve(self._read_join(bot, payload)))
        bot.puppet.on("login", lambda payload: self._logged_in(payload.contact_id))
        bot.puppet.on("logout", lambda payload: self._logged_out(payload.contact_id))

    async def _teardown(self, bot: Any, running: asyncio.Task[Any] | None,
                        waiters: list[asyncio.Task[Any]]) -> None:
        self._connected.clear()
        self._bot = None
        for task in waiters:
            task.cancel()
        puppet = bot._puppet
        channel = getattr(puppet, "channel", None)
        if puppet is not None and self._stopping.is_set():
            # Tell a live gateway we are leaving (it logs the bot out); a dead one fails fast.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(puppet.stop(), 3)
        if running is not None:
            running.cancel()
        await asyncio.gather(*waiters, *([running] if running else []), return_exceptions=True)
        if channel is not None:
            channel.close()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    async def _live_bot(self) -> Any:
        try:
            await asyncio.wait_for(self._connected.wait(), self.send_timeout)
        except TimeoutError:
            raise ConnectionError(
                f"wechaty: not connected to {self.endpoint} (waited {self.send_timeout:g}s)"
            ) from None
        if self._bot is None:
            raise ConnectionError(f"wechaty: connection to {self.endpoint} just dropped")
        return self._bot

    # -- translation ------------------------------------------------------------------------

    def _logged_in(self, contact_id: str) -> None:
        self.self_id = contact_id
        self.logins += 1
        self._connected.set()
        log.info("wechaty: logged in as %s via %s", contact_id, self.endpoint)

    def _logged_out(self, contact_id: str) -> None:
        self._connected.clear()
        log.warning("wechaty: %s logged out; waiting for a new login", contact_id)

    def _reserve(self, read: Coroutine[Any, Any, list[Event]], key: str | None = None) -> None:
        if key is not None:
            if key in self._seen:  # gateways may deliver an event twice
                read.close()
                return
            self._seen[key] = None
            if len(self._seen) > 10_000:
                self._seen.popitem(last=False)
        self._pending.put_nowait(asyncio.ensure_future(read))

    async def _read_message(self, bot: Any, message_id: str) -> list[Event]:
        msg = bot.Message.load(message_id)
        await msg.ready()
        return [await translate_message(msg, self.self_id)]

    async def _read_join(self, bot: Any, payload: Any) -> list[Event]:
        room = bot.Room.load(payload.room_id)
        await room.ready()
        invitees = [bot.Contact.load(i) for i in payload.invited_ids]
        for contact in invitees:
            await contact.ready()
        inviter = bot.Contact.load(payload.inviter_id) if payload.inviter_id else None
        if inviter is not None:
            await inviter.ready()
        return list(await translate_join(room, invitees, inviter, aware(payload.timestamp)))

def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "closed by the gateway"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
