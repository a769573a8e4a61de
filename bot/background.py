"""Slow work the bot answers before it finishes: one registry, one lane, one shutdown wait.

Chat events are handled one after another on one event loop (bot/dispatcher.py), so whatever
a command or a job does inline holds every group: a segmentation (1.5 s on the 300-member
demo community, far more on a real one), a report's chart (≈ 1.3 s of matplotlib, 6.5 s the
first time), an invite run that builds every member's persona, an LLM polish (an endpoint's
answer, seconds). Such work is started here and the command answers at once.

- Blocking work (`in_thread`) runs in a worker thread, one at a time on one lane: a
  segmentation, a report, an erasure's recompute never overlap, so none reads what another is
  half way through writing and SQLite sees one background writer beside the live path. Each
  storage call opens its own pooled connection, so the thread never shares the loop's; on
  SQLite the live writer and the worker queue for the write lock within the busy timeout
  (storage/db.py), readers never block in WAL mode. What it returns, or the exception it
  raised, goes back to the loop (`done` / `failed`), which tells the asker.
- Async work (`start`: a polish) runs as a task of its own; `bounded` ones may be cut short at
  shutdown after a grace period (their plain text already went out).
- `drain` is the one shutdown wait: thread work runs to its end (a thread cannot be stopped,
  and a recompute cut short would leave a stored run counting an erased member), bounded
  tasks get `grace` seconds, then are cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger("siyu.bot")

T = TypeVar("T")


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._bounded: set[asyncio.Task[Any]] = set()
        # One lane per event loop (a lock belongs to the loop it first waited on; tests run
        # one bot under several `asyncio.run`s).
        self._lanes: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        # Lane work queued or running, by name: "is a segmentation on its way?"
        self._pending: Counter[str] = Counter()
        # Run on the loop after each piece of lane work, whatever its outcome (the bot
        # reloads the learned words a recompute may have changed).
        self.after: Callable[[], Awaitable[None]] | None = None

    def start(self, name: str, work: Coroutine[Any, Any, Any], *,
              bounded: bool = False) -> asyncio.Task[Any]:
        """Run `work` beside the message path; held here so it is not collected mid-run."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if bounded:
            self._bounded.add(task)
            task.add_done_callback(self._bounded.discard)
        return task

    def pending(self, name: str) -> bool:
        """Whether lane work of that name is queued or running."""
        return self._pending[name] > 0

    def in_thread(self, name: str, work: Callable[[], T], *,
                  done: Callable[[T], Awaitable[None]] | None = None,
                  failed: Callable[[Exception], Awaitable[None]] | None = None
                  ) -> asyncio.Task[T | None]:
        """Run blocking `work` on the lane, in a worker thread; then `done(result)` or, when it
        raised, `failed(exc)` on the loop, before the next lane work starts (a report's chart
        file is sent before the next report draws over it). Failures are logged with their
        traceback. The task's result is the work's, None when it failed."""
        self._pending[name] += 1

        async def run() -> T | None:
            try:
                async with self._lane():
                    try:
                        result = await asyncio.to_thread(work)
                    except Exception as exc:
                        log.exception("后台任务 %s 失败", name)
                        await self._quietly(name, failed(exc) if failed is not None else None)
                        return None
                    await self._quietly(name, done(result) if done is not None else None)
                    return result
            finally:
                self._pending[name] -= 1
                await self._quietly(name, self.after() if self.after is not None else None)

        return self.start(name, run())

    async def _quietly(self, name: str, step: Awaitable[None] | None) -> None:
        if step is None:
            return
        try:
            await step
        except Exception:
            log.exception("后台任务 %s 的后续步骤失败", name)

    def _lane(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(loop)
        if lane is None:
            self._lanes = {loop: (lane := asyncio.Lock())}
        return lane

    async def drain(self, grace: float) -> None:
        """Shutdown: wait for every thread's work (and what it starts when done), then give
        bounded tasks up to `grace` seconds and cancel the rest."""
        while self._tasks:
            unbounded = self._tasks - self._bounded
            if unbounded:
                await asyncio.gather(*unbounded, return_exceptions=True)
                continue
            _, late = await asyncio.wait(set(self._bounded), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)


def failure_line(what: str, exc: BaseException) -> str:
    """The one line an asker gets when their background work failed (the traceback is in
    the log): what did not finish, and the error's own first line."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if len(reason) > 120:
        reason = reason[:119] + "…"
    return f"{what}没有完成：{reason}。请稍后再试，详情见机器人日志。"
