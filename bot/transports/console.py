"""The console transport: try the live bot with nothing external, or script it in tests.

Input, one line each (Chinese or English keywords):
    小张: 这款奶粉有没有优惠？        a group message from 小张 in the current group
    有货吗                           the same speaker again
    私聊 小张: /我的数据              a private message from 小张 to the bot  (also: dm 小张: …)
    :群 宝妈福利群                    switch the current group                (also: :group …)
    :入群 小李 小禾助手               小李 joins, invited by 小禾助手          (also: :join …)
    # a comment
A name typed before the colon is looked up among the members already stored (the bot hands
the console a resolver): an id, platform id, account name, group nickname or alias of one
member speaks as that member, and the console says whom it matched; a name several members
share is not guessed (the line is not sent, the candidates are listed); anyone else is a new
person whose name is also their id, so `[bot] managers = ["王经理"]` works.
Output: what the bot sends, prefixed by where it goes: `[私聊→小张] …` or `[群 宝妈福利群] …`.
The run ends cleanly at end of input.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from bot.transports.base import EventHandler
from handlers.events import JoinEvent, MessageEvent, MessageType

_SPEAKER = re.compile(r"^(?:(私聊|dm)\s+)?([^:：\s][^:：]{0,31})\s*[:：]\s*(.*)$", re.IGNORECASE)
_MENTION = re.compile(r"@([^\s@\u2005]+)")
DEFAULT_GROUP = "控制台测试群"


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who a typed name speaks as: the platform id events carry, and the display name."""

    id: str
    name: str
    # Said once, when the name is first typed: whom it matched, or that it is a new person.
    note: str = ""
    # False: the name is ambiguous; its lines are not sent until it is typed more exactly.
    ok: bool = True


Resolve = Callable[[str], Speaker]


def _chat_id(name: str) -> str:
    return "console-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10] + "@chatroom"


class ConsoleTransport:
    name = "console"

    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
                 group: str = DEFAULT_GROUP, bot_name: str = "小禾助手") -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.group = group
        self.self_id: str | None = bot_name
        self.speaker: str | None = None
        self._stopped = False
        self._seq = itertools.count(1)
        self.sent: list[tuple[str, str, str]] = []  # (kind, to, text) — for tests and replay
        self.resolve: Resolve = lambda name: Speaker(name, name)
        self._speakers: dict[str, Speaker] = {}

    def set_resolver(self, resolve: Resolve) -> None:
        """The bot's member lookup (bot/runner.py), so a typed name reaches a stored member."""
        self.resolve = resolve
        self._speakers.clear()

    def _speaker(self, typed: str) -> Speaker:
        who = self._speakers.get(typed)
        if who is None:
            who = self.resolve(typed)
            if who.ok:  # an ambiguous name is asked again, and explained again
                self._speakers[typed] = who
            if who.note:
                self._say(who.note)
        return who

    async def run(self, on_event: EventHandler) -> None:
        while not self._stopped:
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            for event in self.parse(line.rstrip("\n")):
                await on_event(event)

    def parse(self, line: str) -> Sequence[MessageEvent | JoinEvent]:
        line = line.strip()
        if not line or line.startswith("#"):
            return []
        now = datetime.now(UTC)
        n = next(self._seq)
        if line.startswith((":群", ":group")):
            self.group = line.split(maxsplit=1)[1].strip() if " " in line else DEFAULT_GROUP
            self._say(f"（切换到群「{self.group}」）")
            return []
        if line.startswith((":入群", ":join")):
            parts = line.split()
            if len(parts) < 2:
                self._say("（用法：:入群 名字 [邀请人]）")
                return []
            inviter = parts[2] if len(parts) > 2 else None
            return [JoinEvent(id=f"console-join-{n}", ts=now, chat=_chat_id(self.group),
                              chat_name=self.group, member=parts[1], member_name=parts[1],
                              inviter=inviter, inviter_name=inviter,
                              channel="invite" if inviter else None, origin="console")]
        m = _SPEAKER.match(line)
        private = False
        if m:
            private = bool(m.group(1))
            self.speaker = m.group(2).strip()
            text = m.group(3)
        elif self.speaker:
            text = line
        else:
            self._say("（先写说话人，例如「小张: 你好」）")
            return []
        who = self._speaker(self.speaker)
        if not who.ok:
            return []
        if private:
            chat, chat_name, is_group = who.id, who.name, False
        else:
            chat, chat_name, is_group = _chat_id(self.group), self.group, True
        return [MessageEvent(
            id=f"console-{now.timestamp():.0f}-{n}", ts=now, chat=chat, chat_name=chat_name,
            is_group=is_group, sender=who.id, sender_name=who.name, type=MessageType.TEXT,
            text=text, mentions=tuple(_MENTION.findall(text)), origin="console")]

    def _say(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    async def send_private(self, user_id: str, text: str) -> None:
        self.sent.append(("private", user_id, text))
        self._say(f"[私聊→{user_id}] {text}")

    async def send_group(self, chat_id: str, text: str, mentions: Sequence[str] = ()) -> None:
        self.sent.append(("group", chat_id, text))
        at = "".join(f"@{m} " for m in mentions)
        self._say(f"[群 {self.group}] {at}{text}")

    async def send_image(self, user_id: str, path: Path) -> None:
        self.sent.append(("image", user_id, str(path)))
        self._say(f"[私聊→{user_id}] [图片] {path}")

    async def stop(self) -> None:
        self._stopped = True
