"""What chat-command routers share: the app, settings, roles, and member lookup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.app import App
from bot.dispatcher import CommandContext
from bot.roles import Roles
from handlers.personas import PersonaView, build_personas
from handlers.settings import Settings
from handlers.suggest import Polisher
from storage.members import MemberRow
from storage.privacy import PrivacyStore

log = logging.getLogger("siyu.bot")


@dataclass
class BotContext:
    app: App
    settings: Settings
    roles: Roles
    platform: str = "wechat"
    # The optional LLM polish of `[llm]` (bot/llm.py), handed to the suggestion use cases.
    polisher: Polisher | None = None
    privacy: PrivacyStore = field(init=False)
    # Slow work a command started and answered before it finished (the recompute after
    # /删除): held here so it is not collected mid-run, and awaited when the bot stops.
    background: set[asyncio.Task[Any]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.privacy = PrivacyStore(self.app.store.engine)

    def in_background(self, name: str, work: Callable[[], Any]) -> None:
        """Run blocking `work` in a worker thread, off the message path: chat events are
        handled one after another, so a command that waits holds every group."""

        async def run() -> None:
            try:
                await asyncio.to_thread(work)
            except Exception:
                log.exception("后台任务 %s 失败", name)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def drain(self) -> None:
        """Wait for the background work still running (shutdown: a recompute cut short
        would leave a stored run counting an erased member)."""
        while self.background:
            await asyncio.gather(*list(self.background))

    def member_of_sender(self, sender: str) -> MemberRow | None:
        return self.app.store.member_by_platform_id(sender)

    def target(self, ctx: CommandContext) -> tuple[MemberRow | None, str]:
        """The member a staff command is about, or None with a reason to show."""
        queries = ctx.mention_ids or ctx.mention_names
        if not queries:
            return None, f"请 @ 一位成员，例如：{ctx.example or '/画像 @小张'}"
        rows = self.app.store.find_members(queries[0])
        if not rows:
            return None, f"找不到成员「{queries[0]}」"
        if len(rows) > 1:
            names = "、".join(r.name for r in rows[:5])
            return None, f"有 {len(rows)} 位成员匹配「{queries[0]}」：{names}，请更具体一些"
        return rows[0], ""

    def persona(self, member: MemberRow, as_of: datetime) -> PersonaView:
        (view,) = build_personas(self.app.store, self.settings, self.app.labels, as_of,
                                 [member.pk])
        return view
