"""Routing live events: commands by role, everything else through ingest and triggers.

Shape borrowed from aiogram 3 (a router per feature, included in one visible place) and
nonebot2 (permissions are small objects; a failing handler is logged and dispatch goes on).

Order of work for one message, and why:
1. the bot's own echoes are dropped (never analysed as a member);
2. a command (prefix, default "/") is parsed, checked against the sender's role and run; a
   refusal is short and audited. Commands are not ingested: "/画像 @小张" says nothing about
   the operator's interests;
3. any other message, and every join, goes to the live use case (handlers/live.py: ingest →
   triggers → what to send), and what it returns is sent privately.
Replies that carry persona data never go to a member group: `Reply.private` sends them to the
asker's private chat whatever chat the command came from (a configured managers' group is the
only group that may receive them).

Nobody who addresses the bot is met with silence: a word the sender may type without the
prefix (`已发 12`, which every script's footer asks for) counts in a private chat; a `/word`
that is no command gets the nearest command the sender may use, unless a member typed it in a
group (people use "/" in chat: that stays chat); a refusal says how to get the role.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.render_suggest import suggestion_text
from bot.roles import MANAGER, OPERATOR, STAFF, Role, Roles
from bot.transports.base import Event, Transport
from handlers.events import JoinEvent, MessageEvent
from handlers.live import Outgoing

log = logging.getLogger("siyu.dispatcher")

# Suggestions are rendered in the community's zone; the bot passes it (settings.tz).
_UTC = ZoneInfo("UTC")
_MENTION = re.compile(r"@([^\s@\u2005]+)")
# What may follow a bare command word: a suggestion number, "#" optional ("已发 12", "忽略#3").
_BARE_ARGS = re.compile(r"\s*#?\d+\s*")


@dataclass(slots=True)
class Reply:
    text: str = ""
    image: Path | None = None
    # True: to the asker privately (default: persona data is never shown in a group).
    private: bool = True


@dataclass(slots=True)
class CommandContext:
    event: MessageEvent
    role: Role
    name: str  # the command word as typed
    args: list[str]  # words after the command, @mentions removed
    mention_ids: list[str]  # platform ids mentioned (from the platform)
    mention_names: list[str]  # names typed after @ (when the platform gives no ids)
    now: datetime
    # Sends a later reply the way the command's own reply goes (privately, or into a
    # managers' group): for work a command answers before it ends (bot/background.py).
    answer: Callable[[Reply], Awaitable[None]]
    extras: dict[str, Any] = field(default_factory=dict)
    # The command's own example ("/建议 @朵朵妈"), for a usage line that names this command.
    example: str = ""


CommandHandler = Callable[[CommandContext], Awaitable[Reply | list[Reply] | None]]


class LiveUseCase(Protocol):
    """What the dispatcher hands chat and joins to (handlers/live.py: `Live`)."""

    def on_message(self, event: MessageEvent) -> list[Outgoing]: ...

    def on_join(self, event: JoinEvent) -> list[Outgoing]: ...


@dataclass(slots=True)
class Command:
    names: tuple[str, ...]
    roles: frozenset[Role]
    handler: CommandHandler
    help: str
    # Member privacy commands are answered privately and allowed for everyone.
    always_private: bool = True
    # One line a person could type as it is; /帮助 shows it.
    example: str = ""
    # Also recognised without the prefix in a private chat (the scripts' footer says
    # 「已发 12」, and an operator answers the way the footer says).
    bare: bool = False


class Router:
    """A feature's chat commands; the app includes routers in one place (bot/runner.py)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[Command] = []

    def command(self, *names: str, roles: Iterable[Role], help: str = "", example: str = "",
                bare: bool = False) -> Callable[[CommandHandler], CommandHandler]:
        def deco(fn: CommandHandler) -> CommandHandler:
            self.commands.append(Command(tuple(names), frozenset(roles), fn, help,
                                         example=example, bare=bare))
            return fn
        return deco


@dataclass(slots=True)
class Audit:
    ts: datetime
    actor: str
    command: str
    target: str
    allowed: bool


class Dispatcher:
    def __init__(self, transport: Transport, roles: Roles, live: LiveUseCase,
                 prefix: str = "/", manager_groups: Sequence[str] = (),
                 audit: Callable[[Audit], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 tz: ZoneInfo = _UTC) -> None:
        self.transport = transport
        self.roles = roles
        self.live = live
        self.tz = tz
        self.prefix = prefix
        self.manager_groups = frozenset(manager_groups)
        self.audit = audit or (lambda a: log.info("audit %s", a))
        self.clock = clock
        self.routers: list[Router] = []
        self._commands: dict[str, Command] = {}
        self.latencies: list[float] = []

    def include_router(self, router: Router) -> None:
        for cmd in router.commands:
            for name in cmd.names:
                if name in self._commands:
                    raise ValueError(f"command {name!r} registered twice")
                self._commands[name] = cmd
        self.routers.append(router)

    def command_names(self, role: Role) -> list[str]:
        return [cmd.names[0] for cmd in self.commands_for(role)]

    def commands_for(self, role: Role) -> list[Command]:
        """The commands `role` may use, each once, in the order the routers were included."""
        seen: dict[str, Command] = {}
        for cmd in self._commands.values():
            if role in cmd.roles:
                seen.setdefault(cmd.names[0], cmd)
        return list(seen.values())

    def nearest(self, word: str, role: Role) -> Command | None:
        """The command `role` may use whose name is closest to a mistyped `word`."""
        names = {name: cmd for cmd in self.commands_for(role) for name in cmd.names}
        close = difflib.get_close_matches(word.lower(), list(names), n=1, cutoff=0.5)
        if not close:
            # "/已" or "/画": the start of a command's name.
            close = [n for n in names if word and n.startswith(word)][:1]
        return names[close[0]] if close else None

    async def feed(self, event: Event) -> None:
        """Handle one event; errors are logged and never stop the bot."""
        started = time.perf_counter()
        try:
            if isinstance(event, JoinEvent):
                await self._on_join(event)
            elif not event.is_self and event.sender != self.transport.self_id:
                await self._on_message(event)
        except Exception:
            log.exception("处理事件失败 %s", getattr(event, "id", event))
        finally:
            self.latencies.append(time.perf_counter() - started)

    async def _on_join(self, event: JoinEvent) -> None:
        await self.send(self.live.on_join(event))

    async def _on_message(self, event: MessageEvent) -> None:
        text = (event.text or "").strip()
        if (text.startswith(self.prefix) and len(text) > len(self.prefix)
                and await self._on_command(event, text[len(self.prefix):])):
            return
        # No command: chat, stored like any other (an unknown "/word" was answered above).
        if not event.is_group and (body := self._bare(event.sender, text)):
            await self._on_command(event, body)
            return
        await self.send(self.live.on_message(event))

    def _bare(self, sender: str, text: str) -> str | None:
        """`已发 12` / `已发12` / `忽略 #3` typed without the prefix, as the command's body —
        only when the sender may use that command (otherwise it is a member's chat)."""
        role = self.roles.role_of(sender)
        for cmd in self.commands_for(role):
            if not cmd.bare:
                continue
            for name in cmd.names:
                rest = text[len(name):] if text.lower().startswith(name.lower()) else None
                if rest is not None and _BARE_ARGS.fullmatch(rest):
                    return f"{name} {rest.strip()}"
        return None

    async def _on_command(self, event: MessageEvent, body: str) -> bool:
        """Run a command; False when the word is no command: then it stays chat (stored as
        any message is), and, when it was meant for the bot, gets the nearest command."""
        words = body.replace("\u2005", " ").split()
        name = words[0] if words else ""
        cmd = self._commands.get(name) or self._commands.get(name.lower())
        role = self.roles.role_of(event.sender)
        if cmd is None:
            # People use "/" in ordinary chat too: a member's "/哈哈" in a group is chat. Said
            # to the bot privately, or by staff, it was meant for the bot: answer it.
            if not event.is_group or role in STAFF:
                await self._reply(event, Reply(self._unknown(name, role)))
            return False
        names = _MENTION.findall(body)
        args = [w for w in words[1:] if not w.startswith("@")]
        target = ",".join(event.mentions) or ",".join(names) or " ".join(args)
        allowed = role in cmd.roles
        self.audit(Audit(self.clock(), event.sender, cmd.names[0], target, allowed))
        if not allowed:
            await self._reply(event, Reply(f"抱歉，「{name}」只对{_role_names(cmd.roles)}开放。"
                                           + _how_to_get(cmd.roles, event.sender)))
            return True
        ctx = CommandContext(event, role, name, args, list(event.mentions), names, self.clock(),
                             functools.partial(self._reply, event), example=cmd.example)
        result = await cmd.handler(ctx)
        replies = result if isinstance(result, list) else [result] if result else []
        for reply in replies:
            await self._reply(event, reply)
        return True

    def _unknown(self, name: str, role: Role) -> str:
        near = self.nearest(name, role)
        if near is None:
            return f"没有「{self.prefix}{name}」这个命令。发送 {self.prefix}帮助 查看你可用的命令。"
        return (f"没有「{self.prefix}{name}」这个命令，你是不是想用 {self.prefix}{near.names[0]}？"
                f"例如：{near.example or self.prefix + near.names[0]}。"
                f"发送 {self.prefix}帮助 查看全部。")

    async def _reply(self, event: MessageEvent, reply: Reply) -> None:
        in_managers_group = event.is_group and event.chat in self.manager_groups
        if (reply.private and not in_managers_group) or not event.is_group:
            if reply.text:
                await self.transport.send_private(event.sender, reply.text)
            if reply.image:
                await self.transport.send_image(event.sender, reply.image)
        else:
            if reply.text:
                await self.transport.send_group(event.chat, reply.text, [event.sender])
            if reply.image:
                await self.transport.send_image(event.sender, reply.image)

    async def send(self, messages: Iterable[Outgoing]) -> None:
        """What the live use case hands back, privately: a suggestion in the operator's words
        (bot/render_suggest.py), or its text as it is."""
        for out in messages:
            text = out.text if out.suggestion is None else suggestion_text(out.suggestion, self.tz)
            await self.transport.send_private(out.to, text)


def _how_to_get(roles: frozenset[Role], sender: str) -> str:
    """A refusal names the way in: roles are ids in siyu.toml, read when the bot starts."""
    keys = "managers" if MANAGER in roles and OPERATOR not in roles else "operators 或 managers"
    return (f"如需使用，请管理者把你的 ID「{sender}」加入 siyu.toml 的 [bot] {keys}，"
            "然后重启机器人。")


def _role_names(roles: Iterable[Role]) -> str:
    names = {"manager": "管理者", "operator": "运营", "member": "成员"}
    return "、".join(names[r] for r in sorted(roles, key=list(names).index))
