"""The live bot's LLM polish: the plain script goes out at once, the polished one follows.

A polish is a network call (bot/llm.py) that a local model answers in seconds. Made inside the
message hook it held the event loop, so every group's messages waited behind it (four console
messages took 16 s with a 2 s endpoint). Here the live use case runs without a polisher: the
operator gets the template the moment the trigger fires, and `LivePolish` asks the endpoint
in a task of its own (`Polisher.apolish`, one reused `httpx.AsyncClient`). When a better text
comes back and the suggestion is still pending with that very script, the row takes it
(handlers/live_polish.py) and each recipient gets it as a short follow-up that replaces the
first one; a failure, a timeout or an operator who already acted leaves the plain script as
the answer, which is always a good one on its own.

The endpoint is asked about a few scripts at once (`concurrency`); at most `backlog` scripts
wait, and one that waited longer than the endpoint's own timeout before its turn stays plain:
a burst's scripts are not queued into minutes of requests whose answers would arrive after
the operator moved on.

The tasks are the bot's background work (bot/background.py): its one shutdown wait gives
polishes in flight up to one request's time, then cancels them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot.background import Background
from bot.llm import Polisher
from bot.render_suggest import polished_text
from handlers.events import JoinEvent, MessageEvent
from handlers.live import Live, Outgoing
from handlers.live_polish import store_polish
from handlers.suggest import SuggestionView

log = logging.getLogger("siyu.llm")

Send = Callable[[str, str], Awaitable[None]]


class LivePolish:
    """`Live` as the dispatcher sees it, with each sent suggestion polished afterwards."""

    def __init__(self, live: Live, polisher: Polisher, send: Send, background: Background, *,
                 concurrency: int = 4, backlog: int = 64) -> None:
        self.live = live
        self.polisher = polisher
        self.send = send
        self.background = background
        self.backlog = backlog
        self.concurrency = concurrency
        # Made on the running loop at the first polish (a semaphore belongs to one loop).
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0  # polishes started and not finished
        self.skipped = 0  # scripts left plain: the backlog was full, or they waited too long

    def on_message(self, event: MessageEvent) -> list[Outgoing]:
        return self.follow(self.live.on_message(event))

    def on_join(self, event: JoinEvent) -> list[Outgoing]:
        return self.follow(self.live.on_join(event))

    def due(self, now: datetime) -> list[Outgoing]:
        return self.follow(self.live.due(now))

    def follow(self, out: Sequence[Outgoing]) -> list[Outgoing]:
        """Start a polish for every suggestion in `out` (once each, whoever receives it);
        `out` itself goes back unchanged, to be sent now."""
        recipients: dict[int, tuple[SuggestionView, list[str]]] = {}
        for o in out:
            if o.suggestion is not None and not o.suggestion.row.polished:
                recipients.setdefault(o.suggestion.row.id, (o.suggestion, []))[1].append(o.to)
        for view, to in recipients.values():
            if self._waiting >= self.backlog:
                self.skipped += 1
                log.warning("LLM polish backlog full (%d); #%s stays plain", self.backlog,
                            view.row.id)
                continue
            if self._slots is None:
                self._slots = asyncio.Semaphore(self.concurrency)
            self._waiting += 1
            task = self.background.start(f"polish-{view.row.id}",
                                         self._polish(view, to, self._slots), bounded=True)
            task.add_done_callback(self._finished)
        return list(out)

    async def _polish(self, view: SuggestionView, to: list[str],
                      slots: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        queued = loop.time()
        try:
            async with slots:
                if loop.time() - queued > self.polisher.config.timeout:
                    self.skipped += 1
                    log.info("LLM polish of #%s waited too long for its turn; plain script "
                             "stands", view.row.id)
                    return
                result = await self.polisher.apolish(view.row.text, name=view.name,
                                                     secrets=[view.member_id])
            if not result.polished:
                return
            stored = store_polish(self.live.store, view, result.text)
            if stored is None:
                log.info("LLM polish of #%s arrived after it changed; plain script stands",
                         view.row.id)
                return
            text = polished_text(stored)
            for recipient in to:
                await self.send(recipient, text)
        except Exception:
            log.exception("LLM polish of #%s failed; plain script stands", view.row.id)

    def _finished(self, _: object) -> None:
        self._waiting -= 1

    async def close(self) -> None:
        """At shutdown, after the background work drained: close the client."""
        self._slots = None
        await self.polisher.aclose()
