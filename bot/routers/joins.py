"""Newcomers: a join is recorded through the ingest path, and a consent notice goes out once.

The join becomes a system message in the new member's name carrying WeChat's own wording
('"小禾助手"邀请"王丽"加入了群聊'), so live joins and joins found in exported history are the
same stored fact: the analyser turns both into a join signal (channel and inviter), which
starts the member's "new" stage and becomes their join-channel tag.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.dispatcher import Router
from bot.routers.context import BotContext
from bot.routers.operator import pending_notifications
from handlers.events import JoinEvent, MessageEvent, MessageType
from storage.notices import NoticeStore


def join_notice_text(event: JoinEvent) -> str:
    name = event.member_name or event.member
    inviter = event.inviter_name or event.inviter
    if event.channel == "qrcode" and inviter:
        return f'"{name}"通过扫描"{inviter}"分享的二维码加入群聊'
    if inviter:
        return f'"{inviter}"邀请"{name}"加入了群聊'
    return f'"{name}"加入了群聊'


def make_router(bot: BotContext, ingest: Callable[[MessageEvent], None],
                consent_notice: str = "") -> Router:
    router = Router("joins")
    notices = NoticeStore(bot.app.store.engine)

    @router.on_join
    async def on_join(event: JoinEvent) -> list[tuple[str, str]]:
        ingest(MessageEvent(
            id=event.id, ts=event.ts, chat=event.chat, chat_name=event.chat_name,
            is_group=True, sender=event.member, sender_name=event.member_name,
            type=MessageType.SYSTEM, text=join_notice_text(event), platform=event.platform,
            origin=event.origin))
        # The join notice is a welcome trigger: hand it to the operators now, as any live
        # message's trigger is, instead of waiting for the next message in some chat.
        out = pending_notifications(bot, event.ts, [event.id])
        if not consent_notice:
            return out
        member = bot.member_of_sender(event.member)
        if member is None or member.opted_out or not notices.claim(member.pk, event.ts):
            return out
        return [(event.member, consent_notice), *out]

    return router
