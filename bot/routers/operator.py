"""Operators' suggestion commands (the live trigger hook is handlers/live.py's):

- 建议 @成员: the scripts for that member's latest triggering message, on demand;
- 邀请 <活动> <分群>: per-member invite drafts for a segment, privately;
- 已发 N / 忽略 N: feedback on suggestion #N, which feeds acceptance rates in the report.
"""

from __future__ import annotations

from bot.dispatcher import CommandContext, Reply, Router
from bot.render_suggest import invites_text, suggestion_text
from bot.roles import STAFF
from bot.routers.context import BotContext
from handlers.feedback import set_status
from handlers.invites import draft_invites, split_details
from handlers.suggest import SuggestError, suggest_for_member
from persona.suggest import segment_label


def make_router(bot: BotContext) -> Router:
    router = Router("operator")
    store, settings, labels = bot.app.store, bot.settings, bot.app.labels
    tz = settings.tz

    @router.command("建议", "suggest", roles=STAFF, example="/建议 @朵朵妈",
                    help="为成员最近的提问/投诉/购买意向生成话术")
    async def suggest(ctx: CommandContext) -> Reply:
        member, why = bot.target(ctx)
        if member is None:
            return Reply(why)
        views = suggest_for_member(store, settings, labels, member, ctx.now,
                                   polisher=bot.polisher)
        if not views:
            return Reply(f"{member.name} 最近没有需要跟进的提问、投诉或购买意向。")
        return Reply("\n\n".join(suggestion_text(v, tz) for v in views))

    @router.command("邀请", "invite", roles=STAFF, example="/邀请 周末亲子烘焙课 new",
                    help="为一个分群生成活动邀请草稿（活动名 + 分群代码，可加 时间=… 地点=… "
                         "福利=…，只写进你给的）")
    async def invite(ctx: CommandContext) -> Reply:
        words, details = split_details(ctx.args)
        if len(words) < 2:
            return Reply("用法：/邀请 周末亲子烘焙课 new 时间=周六10点 地点=门店二楼 "
                         "福利=到场送试吃（分群代码如 new、declining、price、high、c1；"
                         "时间/地点/福利可省略）")
        activity, segment = " ".join(words[:-1]), words[-1]
        try:
            run = draft_invites(store, settings, labels, activity, segment, ctx.now,
                               polisher=bot.polisher, details=details)
        except SuggestError as exc:
            return Reply(str(exc))
        return Reply(invites_text(run, segment_label(segment), tz, ctx.now))

    async def feedback(ctx: CommandContext, status: str, done: str) -> Reply:
        if not ctx.args:
            return Reply(f"用法：{ctx.name} 12（建议编号见 #12，斜杠可省略）")
        try:
            view = set_status(store, ctx.args[0], status, ctx.now)
        except SuggestError as exc:
            return Reply(str(exc))
        return Reply(f"#{view.row.id}（{view.name}）已标记为{done}。")

    @router.command("已发", "sent", roles=STAFF, example="已发 12", bare=True,
                    help="建议 #12 已发送（计入采用率）")
    async def sent(ctx: CommandContext) -> Reply:
        return await feedback(ctx, "sent", "已发送")

    @router.command("忽略", "dismiss", roles=STAFF, example="忽略 12", bare=True,
                    help="不采用建议 #12")
    async def dismiss(ctx: CommandContext) -> Reply:
        return await feedback(ctx, "dismissed", "忽略")

    return router
