"""Builders for segmentation tests: real `build_persona` calls on synthetic messages.

Members are described by what they did (messages with signals, orders, events, quotes) and
turned into `MemberInput` exactly as the handlers will, so tests exercise the same personas the
product sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from persona.aggregate import build_persona
from persona.commerce import ContentEventRecord, OrderRecord
from persona.member_table import MemberInput, Quote
from persona.persona import MessageRecord, PersonaSettings
from persona.signals import Signals

SH = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 11, 20, 20, 0, tzinfo=SH)
SETTINGS = PersonaSettings(tz=SH)
LABELS = {
    "parenting": "母婴育儿", "fitness": "运动健身", "digital": "数码", "food": "美食",
    "travel": "旅行", "beauty": "美妆护肤", "price": "价格敏感", "quality": "品质追求",
    "service": "服务依赖", "question": "提问", "complaint": "抱怨投诉",
    "purchase_intent": "购买意向", "praise": "好评", "video": "视频", "link": "分享链接",
    "parent": "有娃家庭", "student": "学生", "female": "女", "male": "男",
}

# Three interest groups used to build communities with clear circles.
GROUPS = {
    "parenting": ("辅食", "奶粉", "宝宝", "纸尿裤"),
    "fitness": ("跑步", "减脂", "健身房", "蛋白粉"),
    "digital": ("手机", "耳机", "充电器", "平板"),
}


def ago(days: float, hour: int | None = None, as_of: datetime = AS_OF) -> datetime:
    ts = as_of - timedelta(days=days)
    return ts.replace(hour=hour, minute=0, second=0) if hour is not None else ts


def msg(mid: str, days: float, hour: int | None = None, **signals: object) -> MessageRecord:
    return MessageRecord(mid, ago(days, hour), "g1", "text", Signals(**signals))  # type: ignore[arg-type]


def order(oid: str, days: float, amount: float, category: str | None = None,
          coupon: bool = False) -> OrderRecord:
    return OrderRecord(oid, ago(days), amount, category, coupon)


def event(days: float, content_type: str = "article", action: str = "view") -> ContentEventRecord:
    return ContentEventRecord(ago(days), content_type, action)


def quote(qid: str, days: float, text: str, *intents: str, chat: str | None = "宝妈群") -> Quote:
    return Quote(qid, ago(days), text, tuple(intents), chat)


def member(mid: str, messages: Iterable[MessageRecord] = (), *,
           orders: Sequence[OrderRecord] = (), events: Sequence[ContentEventRecord] = (),
           chats: Sequence[str] = (), join: str | None = None, quotes: Sequence[Quote] = (),
           keywords: Sequence[str] = (), as_of: datetime = AS_OF) -> MemberInput:
    # the orders and events folded in, as every caller of segmentation builds its personas
    persona = build_persona(mid, mid, list(messages), as_of, SETTINGS, LABELS,
                            orders=orders, events=events)
    return MemberInput(persona, tuple(orders), tuple(events), tuple(chats), join, tuple(quotes),
                       tuple(keywords))


def chatter(mid: str, count: int, *, first: float = 60.0, last: float = 1.0,
            hour: int = 20, **signals: object) -> list[MessageRecord]:
    """`count` messages spread evenly from `first` to `last` days ago, all with `signals`."""
    if count == 1:
        return [msg(f"{mid}-m0", last, hour, **signals)]
    step = (first - last) / (count - 1)
    return [msg(f"{mid}-m{i}", first - i * step, hour, **signals) for i in range(count)]


def circle_member(group: str, i: int, *, extra_orders: Sequence[OrderRecord] = (),
                  hour: int = 20) -> MemberInput:
    """A member of one of the GROUPS: talks about its interest and uses its words.

    How much they talk varies with `i`, so members of a group are alike but not identical.
    """
    words = GROUPS[group]
    kws = words[i % 4:] + words[: i % 4]  # most frequent first differs by member
    mid = f"{group}-{i:02d}"
    msgs = chatter(mid, 3 + i % 3, first=40, last=2, hour=hour, interests={group: 1.0},
                   keywords=list(kws))
    q = quote(f"{mid}-q", 3, f"请问{kws[0]}哪款好？", "question", chat=f"{group}群")
    return member(mid, msgs, orders=extra_orders, chats=(f"{group}群",), quotes=(q,),
                  keywords=kws, join="邀请:小禾助手")


def circle_community(sizes: dict[str, int] | None = None) -> list[MemberInput]:
    sizes = sizes or {"parenting": 8, "fitness": 8, "digital": 8}
    return [circle_member(g, i) for g, n in sizes.items() for i in range(n)]
