"""`siyu run`: wire transport → dispatcher → live use case and routers, start the jobs, shut
down cleanly.

A chat message or a join goes to one use case (handlers/live.py: ingest → triggers → what to
send); a command goes to its router. This is the one visible place where the feature routers
are included, in order (aiogram's multi-file bot): members' privacy commands first, so they
can never be shadowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from bot.app import App
from bot.background import Background
from bot.dispatcher import Audit, Dispatcher
from bot.llm import make_polisher
from bot.polish import LivePolish
from bot.roles import MEMBER, Roles
from bot.routers import guide, manager, member, operator, staff
from bot.routers.context import BotContext
from bot.scheduler import JobQueue
from bot.transports.base import Transport
from bot.transports.console import Speaker
from handlers.learn import latest_learned
from handlers.live import Live, Recipients
from handlers.personas import refresh_stale_tags, refresh_steps
from handlers.settings import ConfigError, Settings, section
from storage.audit import AuditStore
from storage.db import sqlite_path
from storage.wal import WalCheckpointer

# The live tag refresh's chunks (see `Bot.refresh_live`): history messages, members.
LIVE_REFRESH_MESSAGES = 1_000
LIVE_REFRESH_MEMBERS = 10

log = logging.getLogger("siyu.run")


@dataclass(frozen=True)
class BotConfig:
    """The `[bot]` table of siyu.toml."""

    prefix: str = "/"
    managers: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    manager_groups: tuple[str, ...] = ()
    consent_notice: str = ""
    tag_refresh_seconds: float = 60.0
    # Scheduled jobs: a fresh segmentation every N hours, the managers' weekly report
    # ("mon 09:00", community time zone; "" turns it off), and a pass of the suggestion
    # triggers every N hours so members turning declining reach the operators.
    segment_every_hours: float = 24.0
    weekly_report: str = "mon 09:00"
    reactivation_every_hours: float = 6.0
    # Optional WeCom group-robot webhook that also receives the weekly report text.
    report_webhook: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> BotConfig:
        raw = section(settings, "bot")
        known = set(cls.__dataclass_fields__)
        for key in raw:
            if key not in known:
                raise ConfigError(f"{settings.source}: [bot] 未知配置项 {key}")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            default = getattr(cls, key)
            if isinstance(default, tuple):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{settings.source}: [bot] {key} 应为字符串列表")
                value = tuple(value)
            elif (not isinstance(value, type(default)) or isinstance(value, bool)) and not (
                    isinstance(default, float) and isinstance(value, int)):
                raise ConfigError(f"{settings.source}: [bot] {key} 类型不对: {value!r}")
            values[key] = value
        if not values.get("prefix", "/").strip():
            raise ConfigError(f"{settings.source}: [bot] prefix 不能为空")
        return cls(**values)


def roles_warning(config: BotConfig, settings: Settings) -> str | None:
    """What `siyu run` says first when nobody would receive a script: without an operator or a
    manager the bot still stores and profiles, but every suggestion goes nowhere."""
    if config.operators or config.managers:
        return None
    where = ("当前目录没有 siyu.toml" if settings.source == "defaults"
             else f"{settings.source} 里 [bot] operators 和 managers 都是空的")
    return (f"注意：没有配置运营或管理者（{where}），机器人生成的话术没有人接收，"
            "运营和管理命令也没人能用。\n"
            "请在 siyu.toml 里写上你的 ID（控制台模式里名字就是 ID）后重新启动：\n"
            "  [bot]\n"
            "  operators = [\"运营小美\"]   # 接收话术、使用 /建议 /画像 等\n"
            "  managers = [\"王经理\"]      # 管理者：/分群 /报告，每周报告")


class Bot:
    """The live bot, transport-agnostic; tests drive it with the console or a fake transport."""

    def __init__(self, settings: Settings, transport: Transport) -> None:
        self.settings = settings
        self.config = BotConfig.from_settings(settings)
        self.transport = transport
        self.app = App(settings, background_checkpoints=True)
        path = sqlite_path(settings.db)
        self.checkpointer = WalCheckpointer(path) if path is not None else None
        self.roles = Roles.of(self.config.managers, self.config.operators)
        # The optional LLM polish of `[llm]`, handed to every suggestion use case.
        polisher = make_polisher(settings)
        # Chat and joins: one use case (handlers/live.py) for every event that is no command.
        self.live = Live(self.app.store, self.app.analyzer, settings, self.app.labels,
                         Recipients(self.roles.operators | self.roles.managers,
                                    tuple(self.roles.operator_ids())),
                         consent_notice=self.config.consent_notice)
        # Slow work started by commands and jobs, answered before it ends; one shutdown wait.
        self.background = Background()
        self.background.after = self.reload_learned
        # Its scripts are polished after they are sent, off the message path (bot/polish.py).
        self.polish = (None if polisher is None
                       else LivePolish(self.live, polisher, transport.send_private,
                                       self.background))
        self.audit = AuditStore(self.app.store.engine)
        self.dispatcher = Dispatcher(transport, self.roles, self.polish or self.live,
                                     self.config.prefix,
                                     self.config.manager_groups, audit=self._audit,
                                     tz=settings.tz)
        self.context = BotContext(self.app, settings, self.roles,
                                  background=self.background, polish=self.polish)
        # Order matters only for readability: command names are unique across routers.
        self.dispatcher.include_router(member.make_router(self.context))
        self.dispatcher.include_router(
            staff.make_router(self.context, manager.segment_describer(self.context)))
        self.dispatcher.include_router(operator.make_router(self.context))
        self.dispatcher.include_router(manager.make_router(self.context))
        # Last: it lists what the routers above registered.
        self.dispatcher.include_router(guide.make_router(self.dispatcher))
        self.jobs = JobQueue(settings.tz)
        # The console asks who a typed name is (bot/transports/console.py: Speaker).
        set_resolver = getattr(transport, "set_resolver", None)
        if set_resolver is not None:
            set_resolver(self.speaker)

    def speaker(self, typed: str) -> Speaker:
        """A name typed in the console → the stored member it names, said out loud.

        A configured manager or operator id is taken as it is (roles are ids). Only whole
        names count (id, platform id, account name, group nickname, alias): "小张" must not
        become "小张妈妈" by a substring; near names are only mentioned.
        """
        if self.roles.role_of(typed) != MEMBER:
            return Speaker(typed, typed)
        store = self.app.store
        rows = store.find_members(typed, partial=False)
        if len(rows) == 1:
            m = rows[0]
            pid = store.platform_id_of(m.pk, "wechat") or m.member_id
            seen = (f"，最近发言 {m.last_active.astimezone(self.settings.tz):%Y-%m-%d}"
                    if m.last_active else "")
            return Speaker(pid, m.name,
                           f"（「{typed}」= 已有成员 {m.name}（{m.member_id}）{seen}）")
        if rows:
            names = "、".join(f"{m.name}（{m.member_id}）" for m in rows[:8])
            return Speaker(typed, typed, ok=False, note=(
                f"（「{typed}」对应 {len(rows)} 位成员：{names}。"
                "请改用其中一位的 ID 或完整名字；这一行没有发出）"))
        near = store.find_members(typed)
        also = ("；相近的已有成员：" + "、".join(f"{m.name}（{m.member_id}）" for m in near[:5])
                + "，要以她们的身份发言请输入完整名字或 ID") if near else ""
        return Speaker(typed, typed,
                       f"（「{typed}」是新成员，按新成员记录，ID 即「{typed}」{also}）")

    def _audit(self, entry: Audit) -> None:
        self.audit.record(entry.ts, entry.actor, entry.command, entry.target, entry.allowed)

    def refresh(self) -> None:
        refresh_stale_tags(self.app.store, self.settings, self.app.labels)

    async def refresh_live(self) -> None:
        """The scheduled tag refresh, in small chunks with the event loop let run between them.

        In one go it held the loop, and so every message, for the whole rebuild: 318 ms at the
        first minutely run of bench_live at 200 msg/s (600 members), and longer as histories
        grow. A chunk of at most LIVE_REFRESH_MEMBERS members and LIVE_REFRESH_MESSAGES
        messages of history (one member with more is a chunk of its own) held it for ≈ 10 ms
        there, the claims before the first chunk for ≈ 15 ms.
        """
        for _ in refresh_steps(self.app.store, self.settings, self.app.labels,
                               chunk_messages=LIVE_REFRESH_MESSAGES,
                               chunk_members=LIVE_REFRESH_MEMBERS):
            await asyncio.sleep(0)

    async def reload_learned(self) -> None:
        """The live personas take the learned words a relearn stored while the bot runs (an
        erasure's recompute here, an import by another process): read in a worker thread,
        swapped on the loop. Runs after each background job and on the tag-refresh clock."""
        words = await asyncio.to_thread(latest_learned, self.app.store, self.settings)
        if self.live.use_learned(words):
            log.info("学到的兴趣词已更新（%d 个），实时画像按新词计算", len(words))

    async def segment(self) -> None:
        """The scheduled segmentation, on the background lane like /分群 (one at a time:
        skipped when one is already on its way)."""
        if self.background.pending(manager.SEGMENT):
            log.info("定时分群跳过：已有一次分群正在进行")
            return
        task = self.background.in_thread(
            manager.SEGMENT, lambda: manager.segment_now(self.context, datetime.now(UTC)))
        # Shielded: a shutdown cancelling this job must not cut the stored run short.
        await asyncio.shield(task)

    async def reactivation(self) -> None:
        """Run the suggestion triggers on the clock: declining members surface without a
        message of their own."""
        await self.dispatcher.send((self.polish or self.live).due(datetime.now(UTC)))

    async def weekly_report(self) -> None:
        """The managers' report: text and chart to each manager, text to the webhook. Drawn
        on the background lane (a segmentation when none is stored, a chart: seconds)."""

        async def send(result: tuple[str, Path | None]) -> None:
            # On the lane: the chart file is sent before another report draws over it.
            text, chart = result
            for manager_id in sorted(self.roles.managers):
                await self.transport.send_private(manager_id, text)
                if chart is not None:
                    await self.transport.send_image(manager_id, chart)

        task = self.background.in_thread(
            "weekly-report", lambda: manager.build_report(self.context, datetime.now(UTC)),
            done=send)
        result = await asyncio.shield(task)
        if result is not None and self.config.report_webhook:
            await post_webhook(self.config.report_webhook, result[0])

    def purge(self) -> int:
        """Retention: raw text older than `retention_days` goes; derived tags stay."""
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.retention_days)
        return self.app.store.purge_text_before(cutoff)

    def schedule(self) -> None:
        c = self.config
        self.jobs.every("refresh_tags", c.tag_refresh_seconds, self.refresh_live)
        self.jobs.every("learned_words", c.tag_refresh_seconds, self.reload_learned)
        self.jobs.every("retention", 86400, self.purge, first=60)
        if c.segment_every_hours > 0:
            self.jobs.every("segment", c.segment_every_hours * 3600, self.segment)
        if c.reactivation_every_hours > 0:
            self.jobs.every("reactivation", c.reactivation_every_hours * 3600, self.reactivation)
        if c.weekly_report:
            day, hour, minute = parse_weekly(c.weekly_report, self.settings.source)
            self.jobs.cron("weekly_report", self.weekly_report, day_of_week=day, hour=hour,
                           minute=minute)

    def warm_up(self) -> None:
        """Load what every message needs before the first one arrives, then freeze it.

        Without this the first message pays for setting up the suggestion hook (config,
        playbook, its stores) and for compiling the hot statements. `gc.freeze()` then moves
        everything loaded so far — the tokenizer's dictionary, the lexicon, modules, compiled
        statements — out of the collector's reach: those objects live as long as the bot,
        and a full collection used to walk all of them while a message waited (a 90 ms pause
        in bench_live's worst case, about 30 ms with them frozen).
        """
        _ = self.app.store, self.app.labels, self.app.analyzer, self.live.triggers
        # Every module with hot statements is imported by now: compile them all (≈ 20 ms that
        # the first message paid, with the next few queued behind it).
        self.app.store.compile_statements()
        gc.collect()
        gc.freeze()

    async def run(self) -> None:
        self.schedule()
        self.warm_up()
        if self.checkpointer is not None:
            self.checkpointer.start()
        self.jobs.start()
        try:
            await self.transport.run(self.dispatcher.feed)
        finally:
            await self.jobs.shutdown()
            # Background work runs to its end; the last scripts' polish may still be on its
            # way: up to one request's time.
            await self.background.drain(
                0.0 if self.polish is None else self.polish.polisher.config.timeout)
            if self.polish is not None:
                await self.polish.close()
            # Flush: whatever the live path marked stale is rebuilt before we exit, and the
            # suggestion hook's watermark is written.
            try:
                self.refresh()
                self.live.flush()
            finally:
                if self.checkpointer is not None:
                    self.checkpointer.stop()
            # What was frozen at start may be garbage now that the bot stops (an embedding
            # process, or a test run, goes on): hand it back to the collector.
            gc.unfreeze()


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekly(value: str, source: str) -> tuple[str, int, int]:
    """ "mon 09:00" → ("mon", 9, 0); a wrong value names the key."""
    try:
        day, clock = value.split()
        hour, minute = (int(x) for x in clock.split(":"))
        if day not in WEEKDAYS or not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError(value)
    except ValueError as exc:
        raise ConfigError(f"{source}: [bot] weekly_report 应形如 \"mon 09:00\"：{value!r}"
                          ) from exc
    return day, hour, minute


async def post_webhook(url: str, text: str, timeout: float = 5.0) -> None:
    """A WeCom group robot takes {"msgtype": "text", "text": {"content": ...}}; failures are
    logged (the job wrapper keeps the bot running) but never retried into a flood."""
    import httpx

    async with httpx.AsyncClient(timeout=timeout) as client:
        resp = await client.post(url, json={"msgtype": "text", "text": {"content": text}})
        resp.raise_for_status()


def make_transport(name: str, settings: Settings, stdin: IO[str] | None = None,
                   stdout: IO[str] | None = None) -> Transport:
    if name == "console":
        from bot.transports.console import ConsoleTransport

        return ConsoleTransport(stdin=stdin, stdout=stdout)
    if name == "wechaty":
        return wechaty_transport(settings)
    raise ConfigError(f"--transport: 未知的连接方式 {name}")


def wechaty_transport(settings: Settings) -> Transport:
    """Endpoint and token from `[wechaty]` in siyu.toml, else the variables Wechaty uses."""
    import os

    from bot.transports.wechaty import WechatyTransport
    from bot.transports.wechaty_setup import WechatyNotInstalled

    conf = section(settings, "wechaty")
    endpoint = conf.get("endpoint") or os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT")
    token = conf.get("token") or os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN")
    if not endpoint or not token:
        raise ConfigError(f"{settings.source}: wechaty 需要 [wechaty] endpoint 和 token"
                          "（或环境变量 WECHATY_PUPPET_SERVICE_ENDPOINT / _TOKEN）")
    try:
        return WechatyTransport(str(endpoint), str(token))
    except WechatyNotInstalled as exc:
        raise ConfigError(str(exc)) from exc


async def run_bot(settings: Settings, transport: Transport) -> None:
    bot = Bot(settings, transport)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(transport.stop()))
    await bot.run()
