"""Operators' and managers' member commands: 画像 @member and 标签 @member +x -y.

Replies carry persona data, so they always go to the asker's private chat (the dispatcher
enforces that; a configured managers' group is the only exception).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.dispatcher import CommandContext, Reply, Router
from bot.render import persona_detail
from bot.roles import MANAGER, STAFF
from bot.routers.context import BotContext
from handlers.personas import circle_labels


def make_router(bot: BotContext,
                describe_segment: Callable[[str, CommandContext], Reply] | None = None
                ) -> Router:
    """`describe_segment(code, ctx)` answers a manager's "画像 <segment>" when segments exist
    (bot/routers/manager.py: segment_describer)."""
    router = Router("staff")
    tz = bot.settings.tz

    @router.command("画像", "persona", roles=STAFF, example="/画像 @朵朵妈",
                    help="查看成员画像与证据（管理者也可 /画像 分群代码）")
    async def persona(ctx: CommandContext) -> Reply:
        if not (ctx.mention_ids or ctx.mention_names) and ctx.args:
            if describe_segment is None or ctx.role != MANAGER:
                return Reply("请 @ 一位成员，例如：/画像 @小张")
            return describe_segment(ctx.args[0], ctx)
        member, why = bot.target(ctx)
        if member is None:
            return Reply(why)
        view = bot.persona(member, ctx.now)
        ids = {e for t in view.persona.tags for e in t.evidence[:2]}
        quotes = bot.app.store.messages_by_id(ids, member.pk)
        return Reply(persona_detail(view, quotes, tz, ctx.now,
                                    circles=circle_labels(bot.app.store, ctx.now)))

    @router.command("标签", "tag", roles=STAFF, example="/标签 @朵朵妈 +高意向 -待跟进",
                    help="手动添加（+）或移除（-）成员标签")
    async def tag(ctx: CommandContext) -> Reply:
        member, why = bot.target(ctx)
        if member is None:
            return Reply(why)
        changes = [a for a in ctx.args if a[:1] in "+-" and len(a) > 1]
        if not changes:
            return Reply("用法：/标签 @成员 +高意向 -待跟进")
        done = []
        for change in changes:
            label = change[1:]
            added = change[0] == "+"
            if bot.privacy.set_manual_tag(member.pk, label, label, added, ctx.now):
                done.append(("添加" if added else "移除") + f"「{label}」")
        summary = "、".join(done) or "没有变化"
        return Reply(f"{member.name}：{summary}")

    return router
