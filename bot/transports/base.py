"""The one interface every transport implements (console, wechaty, test fakes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol

from handlers.events import JoinEvent, MessageEvent

Event = MessageEvent | JoinEvent
EventHandler = Callable[[Event], Awaitable[None]]


class Transport(Protocol):
    name: str
    # The bot account's own id on this platform, once logged in (used to skip its own echoes).
    self_id: str | None

    async def run(self, on_event: EventHandler) -> None:
        """Deliver events to `on_event` until the source ends or `stop()` is called."""
        ...

    async def send_private(self, user_id: str, text: str) -> None: ...

    async def send_group(self, chat_id: str, text: str, mentions: Sequence[str] = ()) -> None: ...

    async def send_image(self, user_id: str, path: Path) -> None:
        """A picture (the report chart) in a private chat."""
        ...

    async def stop(self) -> None: ...


class RecordingSends:
    """Sends recorded as (kind, to, text) in `self.sent` instead of reaching anyone.

    The shared half of every offline transport (tests, benchmarks): they differ in how events
    arrive, never in how a reply is kept.
    """

    sent: list[tuple[str, str, str]]

    async def send_private(self, user_id: str, text: str) -> None:
        self.sent.append(("private", user_id, text))

    async def send_group(self, chat_id: str, text: str, mentions: Sequence[str] = ()) -> None:
        self.sent.append(("group", chat_id, text))

    async def send_image(self, user_id: str, path: Path) -> None:
        self.sent.append(("image", user_id, str(path)))
