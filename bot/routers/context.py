"""What chat-command routers share: the app, settings, roles, member lookup, and the bot's
background work (bot/background.py) for commands that answer before their work is done."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.app import App
from bot.background import Background
from bot.dispatcher import CommandContext
from bot.polish import LivePolish
from bot.roles import Roles
from handlers.personas import PersonaView, build_personas
from handlers.settings import Settings
from storage.members import MemberRow
from storage.privacy import PrivacyStore


@dataclass
class BotContext:
    app: App
    settings: Settings
    roles: Roles
    platform: str = "wechat"
    # Slow work commands start and answer before it ends (/分群, /报告, /邀请, /删除's
    # recompute, the polish): one registry, awaited when the bot stops.
    background: Background = field(default_factory=Background)
    # The live polish of `[llm]` (bot/polish.py): a script goes out plain at once, the
    # polished one follows. None when no endpoint is configured.
    polish: LivePolish | None = None
    privacy: PrivacyStore = field(init=False)
    # Erasures done in chat: a segmentation that overlapped one is run again (see
    # bot/routers/manager.py: segment_now).
    erasures: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.privacy = PrivacyStore(self.app.store.engine)

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
