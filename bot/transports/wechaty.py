"""The live WeChat transport: python-wechaty talking to a Wechaty puppet-service gateway.

python-wechaty is an optional dependency (`pip install 'siyu-companion[wechaty]'`) with old pins
(pyee<12, urllib3<2) that the core package must not inherit, so it is imported only when a
`WechatyTransport` is built. The workarounds below come from running the real client against a
real Node gateway on loopback (shared notes/wechaty.md):

* Python 3.11 rejects one of its dataclass defaults; giving `PuppetOptions` a `__hash__` before
  the import lets it load unchanged.
* It creates `./.wechaty` in the working directory at import time unless `CACHE_DIR` is set.
* Its login path refuses to start when port 5000 is taken: each connection gets an explicit free
  loopback port (nothing listens on it, since no wechaty plugins are used).
* Its own reconnect (sleep 60 s, then `restart()` on the same instance) fails with "Scheduler is
  already running". So this transport supervises the connection itself: a fresh client per
  connection, torn down completely when the gateway drops, and reconnected with a capped
  exponential backoff. A periodic `ding` probe catches a gateway that hangs without closing the
  socket.

Only translation happens here (see bot/transports/__init__.py): Wechaty messages become
`MessageEvent`, room joins become `JoinEvent`, and `send_*` become `say()` calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import warnings
from collections import OrderedDict
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.transports.base import Event, EventHandler
from handlers.events import JoinEvent, MessageEvent, MessageType, stable_message_id

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'siyu-companion[wechaty]'"
ORIGIN = "wechaty"
LOOPBACK = "127.0.0.1"

# Wechaty's message kinds (the gRPC enum names, as `Message.type()` returns them after the
# client's own mapping from the Node puppet's numbering) → our neutral kinds.
_TYPES: dict[str, MessageType] = {
    "MESSAGE_TYPE_TEXT": MessageType.TEXT,
    "MESSAGE_TYPE_IMAGE": MessageType.IMAGE,
    "MESSAGE_TYPE_AUDIO": MessageType.VOICE,
    "MESSAGE_TYPE_VIDEO": MessageType.VIDEO,
    "MESSAGE_TYPE_ATTACHMENT": MessageType.FILE,
    "MESSAGE_TYPE_EMOTICON": MessageType.STICKER,
    "MESSAGE_TYPE_URL": MessageType.LINK,
    "MESSAGE_TYPE_LOCATION": MessageType.LOCATION,
    "MESSAGE_TYPE_MINI_PROGRAM": MessageType.MINI_PROGRAM,
    "MESSAGE_TYPE_RED_ENVELOPE": MessageType.RED_PACKET,
    "MESSAGE_TYPE_TRANSFER": MessageType.TRANSFER,
    "MESSAGE_TYPE_CHAT_HISTORY": MessageType.FORWARD,
    "MESSAGE_TYPE_CONTACT": MessageType.CONTACT_CARD,
    "MESSAGE_TYPE_RECALLED": MessageType.RECALL,
}


class WechatyNotInstalled(ImportError):
    """python-wechaty (or one of its pinned dependencies) cannot be imported."""


class WechatyTransportError(RuntimeError):
    """A problem retrying cannot fix, such as a token the gateway rejects."""


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "siyu-companion" / "wechaty"


def load_wechaty(cache_dir: Path | None = None) -> Any:
    """Import python-wechaty with the known workarounds applied; return the `wechaty` module.

    `CACHE_DIR` and `WECHATY_LOG` are only defaulted, never overridden, so an operator's own
    settings win. The library's loggers default to "error": at "info" they print every member
    message and the gateway token to stderr.
    """
    os.environ.setdefault("CACHE_DIR", str(cache_dir or _default_cache_dir()))
    os.environ.setdefault("WECHATY_LOG", "error")
    try:
        from wechaty_puppet.schemas.puppet import PuppetOptions

        if PuppetOptions.__hash__ is None:
            # A dataclass default of this type is "mutable" to Python 3.11 unless hashable.
            PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign]
        with warnings.catch_warnings():
            # Its telnetlib import warns on every start; nothing a user of ours can act on.
            warnings.simplefilter("ignore", DeprecationWarning)
            import wechaty
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        if missing == "telnetlib":
            raise WechatyNotInstalled(
                "python-wechaty needs telnetlib, which Python 3.13 removed: use Python 3.11 or 3.12"
            ) from exc
        raise WechatyNotInstalled(
            f"the wechaty transport needs python-wechaty ({missing} is missing): {INSTALL_HINT}"
        ) from exc
    return wechaty


def free_loopback_port() -> int:
    """A port nothing listens on right now (python-wechaty insists on checking one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"wechaty endpoint must be HOST:PORT, got {endpoint!r}")
    return host, int(port)


def _aware(timestamp: float | int | None) -> datetime:
    """Gateways send milliseconds (Node puppets) or seconds (older ones); 0 means unknown."""
    if not timestamp:
        return datetime.now(UTC)
    seconds = timestamp / 1000 if timestamp > 2_145_888_000 else timestamp
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: `initial * factor**(n-1)` for the n-th consecutive failure, capped.

    No jitter: there is one client per gateway, so there is no herd to spread out, and tests
    can predict the schedule.
    """

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 60.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return float(min(self.cap, self.initial * self.factor ** (failures - 1)))


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
        self._host, self._port = _split_endpoint(endpoint)
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
        return [await self.translate_message(msg)]

    async def _read_join(self, bot: Any, payload: Any) -> list[Event]:
        room = bot.Room.load(payload.room_id)
        await room.ready()
        invitees = [bot.Contact.load(i) for i in payload.invited_ids]
        for contact in invitees:
            await contact.ready()
        inviter = bot.Contact.load(payload.inviter_id) if payload.inviter_id else None
        if inviter is not None:
            await inviter.ready()
        return list(await self.translate_join(room, invitees, inviter, _aware(payload.timestamp)))

    async def translate_message(self, msg: Any) -> MessageEvent:
        """A ready `wechaty.Message` → `MessageEvent` (the platform message id is kept)."""
        payload = msg.payload
        talker = msg.talker()
        sender = talker.contact_id if talker is not None else payload.from_id
        room = msg.room()
        kind = _TYPES.get(getattr(msg.type(), "name", ""), MessageType.OTHER)
        is_self = self.self_id is not None and sender == self.self_id
        sender_name = talker.name if talker is not None else None
        if room is not None:
            chat, chat_name, is_group = room.room_id, await room.topic(), True
            with contextlib.suppress(Exception):
                # The member's group nickname (群昵称), as chat exports name senders.
                sender_name = (await room.alias(talker)) or sender_name
        else:
            # A private chat is named after the other side, also for the bot's own messages.
            partner = payload.to_id if is_self and payload.to_id else sender
            chat, is_group = partner, False
            chat_name = sender_name
            if partner != sender:
                other = msg.to()
                chat_name = other.name if other is not None else None
        return MessageEvent(
            id=msg.message_id,
            ts=_aware(payload.timestamp),
            chat=chat,
            sender=sender,
            type=kind,
            text=msg.text() if kind is MessageType.TEXT else (msg.text() or None),
            chat_name=chat_name or None,
            is_group=is_group,
            sender_name=sender_name or None,
            mentions=tuple(payload.mention_ids or ()),
            is_self=is_self,
            origin=ORIGIN,
            raw={"message_id": msg.message_id, "type": int(payload.type),
                 "room_id": payload.room_id, "talker_id": payload.from_id,
                 "to_id": payload.to_id, "timestamp": payload.timestamp,
                 "mention_ids": list(payload.mention_ids or ())},
        )

    async def translate_join(self, room: Any, invitees: list[Any], inviter: Any | None,
                             ts: datetime) -> list[JoinEvent]:
        """One `JoinEvent` per invitee: who came in, by whose invitation."""
        topic = await room.topic()
        inviter_id = getattr(inviter, "contact_id", None) or None
        return [
            JoinEvent(
                id=stable_message_id(room.room_id, member.contact_id, ts, "room-join"),
                ts=ts,
                chat=room.room_id,
                member=member.contact_id,
                member_name=member.name or None,
                chat_name=topic or None,
                inviter=inviter_id,
                inviter_name=(inviter.name or None) if inviter_id else None,
                channel="invite" if inviter_id else None,
                origin=ORIGIN,
            )
            for member in invitees
        ]


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "closed by the gateway"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
