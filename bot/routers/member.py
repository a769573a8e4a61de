"""Members' own commands: see (我的数据), stop (退出) and erase (删除) what is held.

Always answered in private, whoever asks and wherever: a member's data is theirs alone.
"""

from __future__ import annotations

from bot.dispatcher import CommandContext, Reply, Router
from bot.render import ATTRIBUTE_LABELS, local, segment_line
from bot.roles import EVERYONE
from bot.routers.context import BotContext


def make_router(bot: BotContext) -> Router:
    router = Router("member")
    tz = bot.settings.tz

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
            f"· 分群：{segment_line(p.segments)}",
            f"· 订单 {p.stats['orders']} 笔",
        ]
        lines.append("· 状态：已退出收集" if member.opted_out else "· 状态：正在收集")
        lines.append("发送 /退出 停止收集你的消息；发送 /删除 删除以上全部数据。")
        return Reply("\n".join(lines))

    @router.command("退出", "optout", roles=EVERYONE, example="/退出",
                    help="停止收集我的消息")
    async def opt_out(ctx: CommandContext) -> Reply:
        ev = ctx.event
        pk = bot.privacy.ensure_member(ev.platform, ev.sender, ev.sender_name or ev.sender)
        bot.privacy.set_opted_out(pk, True)
        return Reply("好的，从现在起不再收集你的消息。已保存的数据仍在，如需删除请发送 /删除。")

    @router.command("删除", "forget", roles=EVERYONE, example="/删除",
                    help="删除关于我的全部数据")
    async def forget(ctx: CommandContext) -> Reply:
        member = bot.member_of_sender(ctx.event.sender)
        if member is None:
            return Reply("目前没有保存你的任何数据，无需删除。")
        removed = bot.privacy.forget_member(member.pk)
        messages = removed.get("message", 0)
        return Reply(f"已删除关于你的全部数据（消息 {messages} 条及所有标签、画像记录）。"
                     "之后的发言仍会被记录；如不希望被记录，请发送 /退出。")

    return router
