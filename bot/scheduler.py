"""Scheduled jobs in the bot's own process (APScheduler 3, asyncio flavour).

Like python-telegram-bot's JobQueue: a thin layer that gives every job the same error handling
as message handlers — a failing job is logged with its traceback and the bot keeps running.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("siyu.jobs")

Job = Callable[[], Awaitable[None] | None]


def guarded(name: str, job: Job) -> Callable[[], Awaitable[None]]:
    """Wrap a job so an exception is logged, never raised into the scheduler or the bot."""

    async def run() -> None:
        try:
            result = job()
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            # Shutdown cancels jobs that were due but had not run: not an error, and the
            # bot's own shutdown flush covers what they would have done.
            log.info("定时任务 %s 随关机取消", name)
        except Exception:
            log.exception("定时任务 %s 失败，机器人继续运行", name)

    run.__name__ = f"job_{name}"
    return run


class JobQueue:
    def __init__(self, timezone: Any) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.scheduler = AsyncIOScheduler(timezone=timezone)
        self.names: list[str] = []

    def every(self, name: str, seconds: float, job: Job, first: float | None = None) -> None:
        from datetime import datetime, timedelta

        kwargs: dict[str, Any] = {}
        if first is not None:
            kwargs["next_run_time"] = datetime.now(self.scheduler.timezone) + timedelta(
                seconds=first)
        self.scheduler.add_job(guarded(name, job), "interval", seconds=seconds, id=name,
                               coalesce=True, max_instances=1, **kwargs)
        self.names.append(name)

    def cron(self, name: str, job: Job, **fields: Any) -> None:
        self.scheduler.add_job(guarded(name, job), "cron", id=name, coalesce=True,
                               max_instances=1, **fields)
        self.names.append(name)

    def start(self) -> None:
        self.scheduler.start()

    async def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
