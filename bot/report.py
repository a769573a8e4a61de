"""The managers' report and segment summaries as Chinese text, from a stored run document.

Works on the JSON a run stores (`persona.segment_result.SegmentResult.to_json`), so a report of an
old run reads exactly as it did then. Kept short on purpose: the method says not too detailed —
sizes and how they changed, the lead persona cards, the patterns that hold, the pain points.
Quotes, words and chat names in a run come from chat exports: each line of the text is shown
through `visible`, so none of them can split a line or act on the terminal.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.cliutil import visible_lines
from bot.render import excerpt

DIMENSION_TITLES = {"value": "价值", "lifecycle": "生命周期", "motivation": "购买动机",
                    "layer": "分层", "cluster": "兴趣圈"}
NONE_LABEL = "未定"


def _label(doc: Mapping[str, Any], dim: str, code: str | None) -> str:
    if not code or code == "none":
        return doc.get("labels", {}).get(dim, {}).get("none", NONE_LABEL)
    return doc.get("labels", {}).get(dim, {}).get(code, code)


def _fmt_time(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return "—"
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def size_lines(doc: Mapping[str, Any], previous: Mapping[str, Any] | None = None
               ) -> list[str]:
    """One line per dimension: "价值：高价值 5（+1）· 成长型 10 …"."""
    lines = []
    before = (previous or {}).get("counts", {})
    for dim, counts in doc.get("counts", {}).items():
        parts = []
        for code, n in counts.items():
            if not n and not before.get(dim, {}).get(code):
                continue
            delta = ""
            if previous is not None:
                d = n - before.get(dim, {}).get(code, 0)
                delta = f"（{d:+d}）" if d else ""
            parts.append(f"{_label(doc, dim, code)} {n}{delta}")
        lines.append(f"{DIMENSION_TITLES.get(dim, dim)}：" + " · ".join(parts))
    circles = doc.get("clusters", [])
    if circles:
        lines.append("兴趣圈：" + " · ".join(f"{c['code']} {c['label']} {c['size']}人"
                                          for c in circles))
    return lines


# A card's representative is made up (persona/card_names.py): said once above the cards and
# beside each name, so nobody goes looking for 朱婉清 among the members.
CARD_NOTE = "人物卡的名字是化名：每张卡代表一类成员，不是某一位真实成员"


def card_text(card: Mapping[str, Any], tz: ZoneInfo, quotes: int = 3) -> list[str]:
    """A persona card as managers read it: who, what they want, in their words, where."""
    seg = card["segment"]
    lines = [f"【{seg['label']}】{card['name']}（化名，代表 {card['size']} 人，"
             f"占 {card['share']:.0%}）"]
    lines += _who_lines(card)
    for q in card.get("quotes", [])[:quotes]:
        where = q.get("chat") or ""
        lines.append(f"    「{excerpt(q['text'])}」（{q.get('intent_label', '')}，{where}）")
    lines += _motive_lines(card)
    lines += _channel_lines(card)
    scene = card.get("scene", {})
    if scene.get("text"):
        lines.append(f"  典型场景：{scene['text']}")
    focus = [f"{f['label']} {_focus_value(f['value'], f.get('code'))}"
             for f in card.get("focus", [])]
    if focus:
        lines.append("  关注指标：" + "，".join(focus))
    return lines


def _who_lines(card: Mapping[str, Any]) -> list[str]:
    """Typical profile, interests, needs and pain points: the lines before the quotes."""
    lines = []
    prof = card.get("profile", {})
    who = " · ".join(p["label"] for k in ("age_range", "city", "life_stage", "occupation")
                     if (p := prof.get(k)))
    if who:
        lines.append(f"  典型画像：{who}")
    if card.get("interests"):
        lines.append("  兴趣：" + "、".join(i["label"] for i in card["interests"]))
    if card.get("needs"):
        lines.append("  核心需求：" + "、".join(_counted(n) for n in card["needs"]))
    if card.get("pain_points"):
        lines.append("  痛点：" + "、".join(_counted(n) for n in card["pain_points"]))
        lines += [f"    · {line}" for p in card["pain_points"][:PAIN_QUOTES]
                  if (line := _quoted(p))]
    return lines


# Pain points a card shows with the quote they came from (the rest by name only).
PAIN_QUOTES = 3
PAIN_QUOTE_CHARS = 36


def _counted(item: Mapping[str, Any]) -> str:
    """"物流慢（3 人）"; a phrase one member wrote is just the phrase."""
    n = int(item.get("members", 1))
    return f"{item['word']}（{n} 人）" if n > 1 else item["word"]


def _quoted(item: Mapping[str, Any]) -> str | None:
    """"物流慢：「就是物流慢了一点…」（宝妈群）", or None for a run stored before pain points
    carried their quote."""
    q = item.get("quote")
    if not q:
        return None
    flat = " ".join(str(q.get("text", "")).split())
    if len(flat) > PAIN_QUOTE_CHARS:
        # a long review: the clause that says it ("…就是物流慢了一点…"), else its start
        word = str(item.get("word", ""))[:2]
        clause = next((c for c in re.split(r"[，,。！!？?；;：:]", flat) if word and word in c), "")
        flat = (f"…{clause}…" if 0 < len(clause) < PAIN_QUOTE_CHARS
                else flat[: PAIN_QUOTE_CHARS - 1] + "…")
    where = f"（{q['chat']}）" if q.get("chat") else ""
    return f"{item['word']}：「{flat}」{where}"


def _motive_lines(card: Mapping[str, Any]) -> list[str]:
    goals = "；".join(card.get("goals", []))
    mot = (card.get("motivation") or {}).get("label")
    if not (goals or mot):
        return []
    if goals and mot:  # the motivation named once, beside the goals it explains
        return [f"  目标与动机：{goals}（动机：{mot}）"]
    return [f"  目标与动机：{goals or mot}"]


def _channel_lines(card: Mapping[str, Any]) -> list[str]:
    """Where the segment hears from us (chats, join channels) and what content it prefers."""
    ch = card.get("channels", {})
    sources = [c["name"] for c in ch.get("chats", [])[:3]] + [j.get("label", j.get("name", ""))
                                                                for j in ch.get("join", [])[:2]]
    content = [c["label"] for c in ch.get("content", [])[:3]]
    content += [c["label"] for c in ch.get("content_events", [])[:2]]
    if not (sources or content):
        return []
    return [f"  信息渠道：{'、'.join(s for s in sources if s) or '—'}；"
            f"偏好内容：{'、'.join(content) or '—'}"]


# Focus metrics that are shares of the segment: a manager reads "复购率 100%", not "复购率 1".
_SHARE_FOCUS = frozenset({"repeat_rate", "coupon_share", "silent_share"})


def _focus_value(value: Any, code: str | None = None) -> str:
    if value is None:
        return "—"
    if code in _SHARE_FOCUS and isinstance(value, int | float):
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 1 or value != int(value) else f"{value:.0f}"
    return str(value)


def pain_points(doc: Mapping[str, Any], top: int = 6) -> list[str]:
    """Community-wide pain points, most members first, each with one member's words where
    the run kept them: the lifecycle cards cover everyone once, so sum those."""
    counter: Counter[str] = Counter()
    quotes: dict[str, Mapping[str, Any]] = {}
    for card in doc.get("cards", []):
        if card["segment"]["dimension"] == "lifecycle":
            for p in card.get("pain_points", []):
                counter[p["word"]] += int(p.get("members", 1))
                if p.get("quote") and p["word"] not in quotes:
                    quotes[p["word"]] = p
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    out = []
    for word, n in ranked:
        quoted = _quoted(quotes[word]) if word in quotes else None
        head = f"{word}（{n} 人提到）"
        out.append(head + quoted[len(word):] if quoted else head)
    return out


def change_lines(doc: Mapping[str, Any]) -> list[str]:
    ch = doc.get("changes")
    if not ch:
        return ["这是第一次分群，下次运行后会显示变化。"]
    m = ch.get("members", {})
    lines = [f"与 {ch.get('previous_as_of', '')[:16].replace('T', ' ')} 相比："
             f"成员 {m.get('before', 0)} → {m.get('after', 0)}（新增 {m.get('joined', 0)}，"
             f"离开 {m.get('left', 0)}）"]
    for dim, moves in ch.get("moves", {}).items():
        if not moves.get("moved"):
            continue
        top = "；".join(f"{_label(doc, dim, t['from'])}→{_label(doc, dim, t['to'])} {t['count']}人"
                       for t in moves.get("transitions", [])[:3])
        lines.append(f"  {DIMENSION_TITLES.get(dim, dim)}：{moves['moved']} 人变化（{top}）")
    cl = ch.get("clusters", {})
    if cl.get("ari") is not None:
        lines.append(f"  兴趣圈稳定度（调整兰德指数）{cl['ari']:.2f}"
                     + (f"，新圈 {'、'.join(cl['new'])}" if cl.get("new") else "")
                     + (f"，消失 {'、'.join(cl['vanished'])}" if cl.get("vanished") else ""))
    return lines


def importance_lines(doc: Mapping[str, Any]) -> list[str]:
    out = []
    for dim, items in (doc.get("importance") or {}).items():
        if items:
            out.append(f"  区分{DIMENSION_TITLES.get(dim, dim)}的关键特征："
                       + "、".join(i["label"] for i in items[:4]))
    return out


def report_text(doc: Mapping[str, Any], previous: Mapping[str, Any] | None, tz: ZoneInfo,
                title: str = "社群报告", cards: int = 4,
                feedback: Sequence[str] = ()) -> str:
    as_of = _fmt_time(doc.get("as_of"), tz)
    lines = [f"{title}（截至 {as_of}，目标：{doc.get('goal_label', '')}）"]
    lines.append("")
    prev_time = _fmt_time(previous.get("as_of"), tz) if previous else None
    lines.append("一、分群规模" + (f"（括号内为较 {prev_time} 的变化）" if prev_time else ""))
    lines += ["  " + line for line in size_lines(doc, previous)]
    lines.append("")
    lines.append(f"二、重点人物卡（{CARD_NOTE}）")
    lead = [c for c in doc.get("cards", []) if c.get("lead")] or doc.get("cards", [])
    for card in lead[:cards]:
        lines += ["  " + line for line in card_text(card, tz)]
    if not lead:
        lines.append("  暂无（成员太少或没有数据）")
    lines.append("")
    lines.append("三、发现的模式")
    patterns = doc.get("patterns", [])
    lines += [f"  · {p['description']}" for p in patterns[:6]] or ["  暂无足够数据支持的模式"]
    lines += importance_lines(doc)
    lines.append("")
    lines.append("四、主要痛点")
    lines += [f"  · {line}" for line in pain_points(doc)] or ["  暂无"]
    lines.append("")
    lines.append("五、变化")
    lines += ["  " + line for line in change_lines(doc)]
    if feedback:
        lines.append("")
        lines.append("六、话术与邀请效果")
        lines += ["  " + line for line in feedback]
    return visible_lines(lines)


def chart_panels(doc: Mapping[str, Any], previous: Mapping[str, Any] | None
                 ) -> list[tuple[str, dict[str, int], dict[str, int] | None]]:
    panels: list[tuple[str, dict[str, int], dict[str, int] | None]] = []
    for dim in ("value", "lifecycle", "motivation"):
        counts = doc.get("counts", {}).get(dim, {})
        before = (previous or {}).get("counts", {}).get(dim) if previous else None
        now = {_label(doc, dim, c): n for c, n in counts.items()}
        prev = {_label(doc, dim, c): n for c, n in before.items()} if before else None
        panels.append((DIMENSION_TITLES[dim], now, prev))
    circles = {f"{c['code']} {c['label']}": c["size"] for c in doc.get("clusters", [])}
    prev_circles = None
    if previous:
        prev_circles = {f"{c['code']} {_label(doc, 'cluster', c['code'])}": c["size"]
                        for c in previous.get("clusters", [])}
    panels.append(("兴趣圈", circles, prev_circles))
    return panels
