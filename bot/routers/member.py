"""Members' own commands: see (我的数据), stop (退出), erase (删除) what is held, and come
back (恢复) after stopping or erasing.

Always answered in private, whoever asks and wherever: a member's data is theirs alone.
"""

from __future__ import annotations

from bot.dispatcher import CommandContext, Reply, Router
from bot.render import ATTRIBUTE_LABELS, local, segment_line
from bot.roles import EVERYONE
from bot.routers.context import BotContext
from handlers.personas import circle_labels
from handlers.privacy import erase_now, finish_forget
from storage.suppression import SuppressionStore


def make_router(bot: BotContext) -> Router:
    router = Router("member")
    tz = bot.settings.tz
    suppression = SuppressionStore(bot.app.store.engine)

    @router.command("我的数据", "mydata", roles=EVERYONE, example="/我的数据",
                    help="查看系统保存的关于我的数据")
    async def my_data(ctx: CommandContext) -> Reply:
        member = bot.member_of_sender(ctx.event.sender)
        if member is None:
            return Reply("目前没有保存你的任何数据。")
        p = bot.persona(member, ctx.now).persona
        tags = "、".join(t.label for t in p.tags if t.kind not in ("lifecycle", "value")) or "无"
        labels = {t.code: t.label for t in p.tags}
        attrs = "，".join(f"{ATTRIBUTE_LABELS[k]}：{labels.get(f'{k}:{v}', v)}"
                         for k, v in p.attributes.items() if v) or "无"
        lines = [
            f"{p.name}，这是我们保存的关于你的数据：",
            f"· 消息 {p.stats['messages']} 条（最早 {local(p.stats['first_seen'], tz)}，"
            f"最近 {local(p.stats['last_active'], tz)}）",
            f"· 标签：{tags}",
            f"· 推断的属性：{attrs}",
            f"· 分群：{segment_line(p.segments, circle_labels(bot.app.store, ctx.now))}",
            f"· 订单 {p.stats['orders']} 笔",
        ]
        lines.append("· 状态：已退出收集" if member.opted_out else "· 状态：正在收集")
        lines.append("发送 /退出 停止收集你的消息；发送 /删除 删除以上全部数据。")
        return Reply("\n".join(lines))

    @router.command("退出", "optout", roles=EVERYONE, example="/退出",
                    help="停止收集我的消息")
    async def opt_out(ctx: CommandContext) -> Reply:
        ev = ctx.event
        if suppression.is_suppressed(ev.platform, ev.sender):
            # Creating a member to mark would store her id and name again.
            return Reply("你的数据已经删除，我们也不会记录你的消息。如想重新加入，请发送 /恢复。")
        pk = bot.privacy.ensure_member(ev.platform, ev.sender, ev.sender_name or ev.sender)
        bot.privacy.set_opted_out(pk, True)
        return Reply("好的，从现在起不再收集你的消息。已保存的数据仍在，如需删除请发送 /删除。")

    @router.command("删除", "forget", roles=EVERYONE, example="/删除",
                    help="删除关于我的全部数据")
    async def forget(ctx: CommandContext) -> Reply:
        member = bot.member_of_sender(ctx.event.sender)
        if member is None:
            return Reply("目前没有保存你的任何数据，无需删除。")
        # Her rows go now, so her next message already finds her suppressed; the runs that
        # counted her are recomputed in the background (one segmentation each: 10–35 s
        # measured, docs/privacy.md) so no group waits for it.
        erasure = erase_now(bot.app.store, member)
        bot.erasures += 1
        removed = erasure.removed
        if erasure.runs:
            bot.background.in_thread("forget-recompute", lambda: finish_forget(
                bot.app.store, bot.settings, bot.app.labels, erasure))
            runs = (f"；含有你的 {len(erasure.runs)} 份历史分群统计正在后台重新计算，"
                    "算完后其中也不再有你")
        else:
            bot.background.in_thread("forget-wipe", bot.privacy.wipe_files)
            runs = ""
        return Reply(f"已删除关于你的全部数据（消息 {removed.get('message', 0)} 条、"
                     f"订单 {removed.get('orders', 0)} 笔，以及所有标签和画像{runs}）。"
                     "从现在起不会再记录你的发言，"
                     "导入的聊天记录也会跳过你；我们只留下一个无法还原成你账号的摘要，用来认出"
                     "并跳过你。如果以后想重新加入，请发送 /恢复。")

    @router.command("恢复", "optin", roles=EVERYONE, help="重新开始收集我的消息")
    async def opt_in(ctx: CommandContext) -> Reply:
        ev = ctx.event
        lifted = suppression.lift(ev.platform, ev.sender)
        member = bot.member_of_sender(ev.sender)
        if member is not None and member.opted_out:
            bot.privacy.set_opted_out(member.pk, False)
        elif member is None and not lifted:
            return Reply("我们一直在正常收集你的消息，无需恢复。")
        elif not lifted:
            return Reply("你没有退出，我们一直在正常收集你的消息。")
        return Reply("好的，从现在起重新记录你的发言。"
                     "发送 /退出 可随时停止，/删除 可删除全部数据。")

    return router
