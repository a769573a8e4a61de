"""Terminal text for people: Chinese labels, aligned columns, evidence quoted.

Plain strings (no terminal library) so the same text can go to a chat message later. Names,
quotes and labels come from chat exports, so every value is shown through `visible` before
it is measured or placed: a newline in a nickname never splits a row, and a cell cut short
never cuts an escape sequence in half (there is none left to cut).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.cliutil import visible, visible_lines
from handlers.personas import PersonaView
from persona.persona import (
    LAYER_LABELS,
    LIFECYCLE_LABELS,
    VALUE_LABELS,
    Tag,
)
from persona.segment_params import NONE_KEY, SEGMENT_LABELS
from storage.messages import StoredMessage

MOTIVATION_NAMES = SEGMENT_LABELS["motivation"]
KIND_LABELS = {
    "interest": "兴趣", "frequency": "频率", "time": "时段", "content": "内容",
    "intent": "意图", "motivation": "动机", "attribute": "属性", "lifecycle": "生命周期",
    "value": "价值", "manual": "手动",
}
ATTRIBUTE_LABELS = {"city": "城市", "age_range": "年龄", "gender": "性别",
                    "life_stage": "人生阶段", "occupation": "职业"}
# Already spelled out in the segment line of a persona, so not repeated among its tags.
_SEGMENT_KINDS = frozenset({"lifecycle", "value"})
TYPE_LABELS = {
    "image": "图片", "voice": "语音", "video": "视频", "file": "文件", "sticker": "表情",
    "link": "链接", "location": "位置", "mini_program": "小程序", "red_packet": "红包",
    "transfer": "转账", "call": "通话", "system": "系统消息", "recall": "撤回",
    "contact_card": "名片", "forward": "转发", "quote": "引用",
}


def _is_segment_tag(tag: Tag) -> bool:
    """The lifecycle / value segment tags. Dynamic value tags such as "近30天购买 母婴用品"
    share the kind but say something new, so they are shown."""
    return tag.kind in _SEGMENT_KINDS and (tag.code in VALUE_LABELS
                                           or tag.code in LIFECYCLE_LABELS)


def _is_routine_tag(tag: Tag) -> bool:
    """Tags every persona has; the summary table shows what is distinctive instead."""
    return tag.kind == "frequency" or _is_segment_tag(tag)


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, cols: int) -> str:
    text = visible(text)
    return text + " " * max(0, cols - width(text))


def clip(text: str, cols: int) -> str:
    out, used = [], 0
    for ch in visible(text):
        w = width(ch)
        if used + w > cols - 1:
            return "".join(out) + "…"
        out.append(ch)
        used += w
    return "".join(out)


# Where a long quote may end: after a sentence's mark, else after a clause's.
_SENTENCE_ENDS = "。！？!?；;…～~"
_CLAUSE_ENDS = "，,、："
QUOTE_CHARS = 50


def excerpt(text: str, limit: int = QUOTE_CHARS) -> str:
    """A member's words as evidence: whole when short, else cut after the last sentence (or
    clause) that fits, with "…". Quotes were cut at 20 characters, mid-word, which left
    "来交作业了，奶粉的真实反馈：就是物流慢…" saying less than the member did."""
    flat = visible(" ".join(text.split()))  # line breaks are spaces in a one-line quote
    if len(flat) <= limit:
        return flat
    head = flat[:limit - 1]
    for marks in (_SENTENCE_ENDS, _CLAUSE_ENDS):
        cut = max(head.rfind(m) for m in marks)
        if cut >= limit // 2:
            return head[:cut + 1].rstrip("，,、：") + "…"
    return head + "…"


def local(ts: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return ts.astimezone(tz).strftime(fmt) if ts else "—"


def segment_line(segments: Mapping[str, str | None],
                 circles: Mapping[str, str] | None = None) -> str:
    """A member's segments in one line; an interest circle with its name when `circles`
    (handlers/personas.py: circle_labels) has it, as the report lists it."""
    parts = [
        VALUE_LABELS.get(segments.get("value") or "", ""),
        LIFECYCLE_LABELS.get(segments.get("lifecycle") or "", ""),
        # the run's own name for "no motivation", so a member reads as the summary counts her
        MOTIVATION_NAMES.get(segments.get("motivation") or NONE_KEY, MOTIVATION_NAMES[NONE_KEY]),
        LAYER_LABELS.get(segments.get("layer") or "", ""),
    ]
    code = segments.get("cluster")
    if code:
        name = (circles or {}).get(code)
        parts.append(f"兴趣圈 {code}（{name}）" if name else f"兴趣圈 {code}")
    return " · ".join(p for p in parts if p)


def personas_table(views: Sequence[PersonaView], tz: ZoneInfo, as_of: datetime,
                   title: str | None = None) -> str:
    """The members as a table; `title` names the segment when the list is one segment."""
    if not views:
        if title:
            return f"{title}截至 {local(as_of, tz)} 没有成员。"
        return "还没有成员。先用 siyu ingest 导入聊天记录。"
    head = ["成员ID", "昵称", "消息", "分群", "主要标签"]
    rows = []
    for v in views:
        p = v.persona
        top = [t.label for t in p.tags if not _is_routine_tag(t)][:5]
        # Names and ids whole: a cut name ("深圳-糖糖…") is a different person to an operator;
        # the columns are padded by display width, CJK counting two.
        rows.append([visible(p.member_id), visible(p.name), str(p.stats["messages"]),
                     segment_line(p.segments), visible("、".join(top)) or "—"])
    cols = [max(width(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = [f"{title or '画像概览'}（截至 {local(as_of, tz)}，共 {len(views)} 位成员）"]
    for r in [head, *rows]:
        lines.append("  ".join(pad(c, cols[i]) for i, c in enumerate(r[:4])) + "  " + r[4])
    return "\n".join(lines)


def persona_detail(view: PersonaView, quotes: Mapping[str, StoredMessage], tz: ZoneInfo,
                   as_of: datetime, max_tags: int | None = None, quotes_per_tag: int = 2,
                   circles: Mapping[str, str] | None = None) -> str:
    """A member's persona for a person: attributes, segments, stats, then each tag with the
    member's own words behind it (the first `max_tags` tags when given); `circles` names
    her interest circle."""
    p = view.persona
    lines = [f"{p.name}（{p.member_id}）  截至 {local(as_of, tz)}"]
    tag_labels = {t.code: t.label for t in p.tags}
    attrs = "  ".join(f"{ATTRIBUTE_LABELS[k]}：{tag_labels.get(f'{k}:{v}', '—') if v else '—'}"
                      for k, v in p.attributes.items())
    lines.append(f"  {attrs}")
    lines.append(f"  分群：{segment_line(p.segments, circles)}")
    s = p.stats
    lines.append(f"  统计：消息 {s['messages']} 条，首次出现 {local(s['first_seen'], tz)}，"
                 f"最近活跃 {local(s['last_active'], tz)}，订单 {s['orders']} 笔，"
                 f"消费 ¥{s['monetary']:.2f}"
                 + (f"，客单价 ¥{s['aov']:.2f}" if s.get("orders") and "aov" in s else ""))
    if view.member.opted_out:
        lines.append("  ⚠ 该成员已选择退出，不再采集其新消息")
    lines.append("  标签（分数越高越可信；证据为原话）：")
    shown = [t for t in p.tags if not _is_segment_tag(t)]
    for t in shown[:max_tags]:
        line = f"    {pad(t.label, 12)} {pad(KIND_LABELS.get(t.kind, t.kind), 8)} {t.score:.2f}"
        if t.expires_at:
            line += f"  有效至 {local(t.expires_at, tz, '%m-%d')}"
        lines.append(line)
        if t.code.startswith("bought:"):
            # The evidence of a purchase tag is order ids, not words.
            lines.append(f"        订单 {'、'.join(t.evidence[:3])}")
            continue
        for mid in t.evidence[:quotes_per_tag]:
            msg = quotes.get(mid)
            if msg is None:
                if t.kind == "motivation" and not mid.startswith("ev-"):
                    # Besides messages, only an order paid with a coupon supports a motivation.
                    lines.append(f"        订单 {mid}（用券）")
                elif t.kind == "interest" and not mid.startswith("ev-"):
                    # An order in a category naming the interest (persona/commerce.py:
                    # category_interests); left out, the tag read as unevidenced.
                    lines.append(f"        订单 {mid}")
                continue
            text = msg.text or ("[原文已过保留期清除]" if msg.type == "text"
                                else f"[{TYPE_LABELS.get(msg.type, msg.type)}]")
            lines.append(f"        「{excerpt(text)}」"
                         f" {local(msg.ts, tz, '%m-%d %H:%M')}")
    if max_tags is not None and len(shown) > max_tags:
        lines.append(f"    ……另有 {len(shown) - max_tags} 个标签（siyu persona 查看全部）")
    return visible_lines(lines)

