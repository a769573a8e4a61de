"""帮助 / help (guide): what this sender may type, by role, one example each.

Built from the dispatcher's own command table, so a new command shows up here by being
registered with a `help` and an `example`; nothing to keep in step by hand.
"""

from __future__ import annotations

from bot.dispatcher import CommandContext, Dispatcher, Reply, Router
from bot.roles import EVERYONE, MANAGER, OPERATOR

ROLE_LABELS = {MANAGER: "管理者", OPERATOR: "运营", "member": "成员"}


def make_router(dispatcher: Dispatcher) -> Router:
    router = Router("help")
    prefix = dispatcher.prefix

    @router.command("帮助", "help", "?", roles=EVERYONE, example="/帮助",
                    help="列出你可以使用的命令")
    async def help_(ctx: CommandContext) -> Reply:
        lines = [f"你的身份：{ROLE_LABELS[ctx.role]}。可用命令（每条附一个例子）："]
        for cmd in dispatcher.commands_for(ctx.role):
            example = cmd.example or "/" + cmd.names[0]
            if example.startswith("/"):
                example = prefix + example[1:]
            aliases = "、".join(n for n in cmd.names[1:] if n.isascii() and n.isalpha())
            also = f"（也可用 {prefix}{aliases}）" if aliases else ""
            lines.append(f"· {cmd.help}{also}\n  例：{example}")
        if ctx.role == "member":
            lines.append("运营和管理者的命令需要在 siyu.toml 的 [bot] operators / managers 里"
                         "登记你的 ID。")
        return Reply("\n".join(lines))

    return router
