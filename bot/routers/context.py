"""What chat-command handlers share: the app, settings, roles, and member lookup."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from bot.app import App
from bot.dispatcher import CommandContext
from bot.llm import make_polisher
from bot.roles import Roles
from handlers.personas import PersonaView, build_personas
from handlers.settings import Settings
from storage.repo import MemberRow, PrivacyStore

if TYPE_CHECKING:
    from handlers.suggest import Polisher, SuggestHook


@dataclass
class BotContext:
    app: App
    settings: Settings
    roles: Roles
    platform: str = "wechat"
    privacy: PrivacyStore = field(init=False)
    _suggest_hook: SuggestHook | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.privacy = PrivacyStore(self.app.store.engine)

    @cached_property
    def polisher(self) -> Polisher | None:
        """The optional LLM polish of `[llm]`, handed to every suggestion use case; read when
        first needed (the warm-up), as the suggestion hook is."""
        return make_polisher(self.settings)

    @property
    def suggest_hook(self) -> SuggestHook:
        """The suggestion hook, set up once for the bot's life: the live path calls it per
        message, and parsing the config and playbook each time was a fixed cost per message.
        The only data it keeps is active members' histories for their personas, checked
        against the database before each use (handlers/live_personas.py)."""
        if self._suggest_hook is None:
            from handlers.suggest import SuggestHook

            self._suggest_hook = SuggestHook(self.app.store, self.settings, self.app.labels,
                                             polisher=self.polisher)
        return self._suggest_hook

    def flush(self) -> None:
        """At shutdown: write what the suggestion hook held back (its newest watermark)."""
        if self._suggest_hook is not None:
            self._suggest_hook.flush()

    def member_of_sender(self, sender: str) -> MemberRow | None:
        return self.app.store.member_by_platform_id(sender)

    def target(self, ctx: CommandContext) -> tuple[MemberRow | None, str]:
        """The member a staff command is about, or None with a reason to show."""
        queries = ctx.mention_ids or ctx.mention_names
        if not queries:
            return None, "请 @ 一位成员，例如：/画像 @小张"
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
