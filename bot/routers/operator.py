"""Operators' suggestion commands and the live trigger hook.

- after every ingested message the trigger hook runs; new suggestions go to operators by
  private message (never into the group the message came from);
- 建议 @成员: the scripts for that member's latest triggering message, on demand;
- 邀请 <活动> <分群>: per-member invite drafts for a segment, privately;
- 已发 N / 忽略 N: feedback on suggestion #N, which feeds acceptance rates in the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.dispatcher import CommandContext, Reply, Router
from bot.render_suggest import invites_text, suggestion_text
from bot.roles import STAFF
from bot.routers.context import BotContext
from handlers.events import MessageEvent
from handlers.suggest import (
    SuggestError,
    draft_invites,
    set_status,
    suggest_for_member,
)


def pending_notifications(bot: BotContext, now: datetime,
                          message_ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """Run the suggestion triggers; (operator id, text) for every suggestion due now.

    With `message_ids` (the live path: the message just ingested) only those messages and
    their senders are looked at, so the cost per message stays flat; without, the full pass
    over the look-back window runs (the clock job). A suggestion addressed to a configured
    operator goes to them; one addressed to the default operator goes to every operator (or
    the managers when there is none).
    """
    hook = bot.suggest_hook
    run = (hook.new_messages(now) if message_ids is None
           else hook.messages(message_ids, now))
    staff = bot.roles.operators | bot.roles.managers
    out = []
    for view in run.notify:
        op = view.row.operator
        for to in [op] if op in staff else bot.roles.operator_ids():
            out.append((to, suggestion_text(view, bot.settings.tz)))
    return out


def make_router(bot: BotContext) -> Router:
    router = Router("operator")
    store, settings, labels = bot.app.store, bot.settings, bot.app.labels
    tz = settings.tz

    @router.on_message
    async def triggers(event: MessageEvent) -> list[tuple[str, str]]:
        return pending_notifications(bot, event.ts, [event.id])

    @router.command("建议", "suggest", roles=STAFF,
                    help="建议 @成员：为成员最近的提问/投诉/购买意向生成话术")
    async def suggest(ctx: CommandContext) -> Reply:
        member, why = bot.target(ctx)
        if member is None:
            return Reply(why)
        views = suggest_for_member(store, settings, labels, member, ctx.now,
                                   polisher=bot.polisher)
        if not views:
            return Reply(f"{member.name} 最近没有需要跟进的提问、投诉或购买意向。")
        return Reply("\n\n".join(suggestion_text(v, tz) for v in views))

    @router.command("邀请", "invite", roles=STAFF, help="邀请 <活动> <分群代码>：生成邀请草稿")
    async def invite(ctx: CommandContext) -> Reply:
        if len(ctx.args) < 2:
            return Reply("用法：/邀请 周末亲子烘焙课 new"
                         "（分群代码如 new、declining、price、high、c1）")
        activity, segment = " ".join(ctx.args[:-1]), ctx.args[-1]
        try:
            run = draft_invites(store, settings, labels, activity, segment, ctx.now,
                               polisher=bot.polisher)
        except SuggestError as exc:
            return Reply(str(exc))
        return Reply(invites_text(run, segment, tz, ctx.now))

    async def feedback(ctx: CommandContext, status: str, done: str) -> Reply:
        if not ctx.args:
            return Reply(f"用法：/{ctx.name} 12（建议编号见 #12）")
        try:
            view = set_status(store, ctx.args[0], status, ctx.now)
        except SuggestError as exc:
            return Reply(str(exc))
        return Reply(f"#{view.row.id}（{view.name}）已标记为{done}。")

    @router.command("已发", "sent", roles=STAFF, help="已发 N：建议 #N 已发送")
    async def sent(ctx: CommandContext) -> Reply:
        return await feedback(ctx, "sent", "已发送")

    @router.command("忽略", "dismiss", roles=STAFF, help="忽略 N：不采用建议 #N")
    async def dismiss(ctx: CommandContext) -> Reply:
        return await feedback(ctx, "dismissed", "忽略")

    return router
