"""Operators' suggestion commands (the live trigger hook is handlers/live.py's):

- 建议 @成员: the scripts for that member's latest triggering message, on demand;
- 邀请 <活动> <分群>: per-member invite drafts for a segment, privately;
- 已发 N / 忽略 N: feedback on suggestion #N, which feeds acceptance rates in the report.

With `[llm]` on, scripts go out plain at once and the polished ones follow as the live path's
do (bot/polish.py): an endpoint's answer takes seconds and chat events are handled one after
another. An invite run builds every member's persona, so it runs on the background lane
(bot/background.py) and its drafts are sent when ready.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.background import failure_line
from bot.dispatcher import CommandContext, Reply, Router
from bot.render_suggest import invites_text, suggestion_text
from bot.roles import STAFF
from bot.routers.context import BotContext
from handlers.feedback import set_status
from handlers.invites import InviteRun, draft_invites, split_details
from handlers.live import Outgoing
from handlers.suggest import SuggestError, SuggestionView, suggest_for_member
from persona.suggest import segment_label


def make_router(bot: BotContext) -> Router:
    router = Router("operator")
    store, settings, labels = bot.app.store, bot.settings, bot.app.labels
    tz = settings.tz

    def polish_later(ctx: CommandContext, views: Sequence[SuggestionView]) -> None:
        """The polished scripts follow, privately to the asker (its plain ones went out)."""
        if bot.polish is not None:
            bot.polish.follow([Outgoing(ctx.event.sender, suggestion=v) for v in views])

    @router.command("建议", "suggest", roles=STAFF, example="/建议 @朵朵妈",
                    help="为成员最近的提问/投诉/购买意向生成话术")
    async def suggest(ctx: CommandContext) -> Reply | None:
        member, why = bot.target(ctx)
        if member is None:
            return Reply(why)
        views = suggest_for_member(store, settings, labels, member, ctx.now)
        if not views:
            return Reply(f"{member.name} 最近没有需要跟进的提问、投诉或购买意向。")
        await ctx.answer(Reply("\n\n".join(suggestion_text(v, tz) for v in views)))
        polish_later(ctx, views)
        return None

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

        async def done(run: InviteRun) -> None:
            await ctx.answer(Reply(invites_text(run, segment_label(segment), tz, ctx.now)))
            polish_later(ctx, run.invites)

        async def failed(exc: Exception) -> None:
            # A wrong segment code or an empty activity: the use case's own words.
            text = str(exc) if isinstance(exc, SuggestError) else failure_line("邀请草稿", exc)
            await ctx.answer(Reply(text))

        bot.background.in_thread("invite", lambda: draft_invites(
            store, settings, labels, activity, segment, ctx.now, details=details),
            done=done, failed=failed)
        return Reply(f"正在为分群 {segment} 起草「{activity}」的邀请，完成后发给你…")

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
