"""Spreadsheet rows (`siyu export`): members, segments, suggestions and groups as plain
header + rows, for a CSV an operator opens in Excel or imports elsewhere.

Chinese headers and labels, because people read these; each member row also carries the
segment codes, because a WeCom customer-tag import or a formula wants a stable value. The
bot writes the file (UTF-8 with BOM); this module only decides what the rows say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.groups import ACTIVE_DAYS, GroupView
from handlers.personas import PersonaView
from persona.persona import (
    LAYER_LABELS,
    LIFECYCLE_LABELS,
    MOTIVATION_SEGMENT_LABELS,
    VALUE_LABELS,
)
from persona.suggest import next_action_label, scenario_label
from storage.suggestion_rows import SuggestionRow

Sheet = tuple[list[str], list[list[str]]]
# The routine tags every persona has say nothing in a sheet.
_ROUTINE_KINDS = frozenset({"frequency", "lifecycle", "value"})
STATUS_LABELS = {"pending": "待处理", "sent": "已发送", "edited": "改写后发送",
                 "dismissed": "已忽略"}
_DIMENSIONS = (("value", "价值", VALUE_LABELS), ("lifecycle", "生命周期", LIFECYCLE_LABELS),
               ("motivation", "购买动机", MOTIVATION_SEGMENT_LABELS),
               ("layer", "分层", LAYER_LABELS))


def _time(ts: datetime | None, tz: ZoneInfo) -> str:
    return ts.astimezone(tz).strftime("%Y-%m-%d %H:%M") if ts else ""


def member_sheet(views: Sequence[PersonaView], tz: ZoneInfo) -> Sheet:
    """One row per member: who, how active, what they bought, their segments, top tags."""
    header = ["成员ID", "昵称", "消息数", "首次出现", "最近活跃", "订单数", "消费金额(元)"]
    header += [title for _, title, _ in _DIMENSIONS] + ["兴趣圈", "主要标签"]
    header += [f"{dim}_code" for dim, _, _ in _DIMENSIONS]
    rows = []
    for v in views:
        p, seg = v.persona, v.persona.segments
        tags = [t.label for t in p.tags if t.kind not in _ROUTINE_KINDS][:8]
        row = [p.member_id, p.name, str(p.stats["messages"]), _time(p.stats["first_seen"], tz),
               _time(p.stats["last_active"], tz), str(p.stats["orders"]),
               f"{p.stats['monetary']:.2f}"]
        row += [labels.get(seg.get(dim) or "", "动机不明" if dim == "motivation" else "")
                for dim, _, labels in _DIMENSIONS]
        row += [seg.get("cluster") or "", "、".join(tags)]
        row += [seg.get(dim) or "" for dim, _, _ in _DIMENSIONS]
        rows.append(row)
    return header, rows


def segment_sheet(doc: Mapping[str, Any]) -> Sheet:
    """One row per segment of a run: dimension, code, name, size and share."""
    header = ["维度", "分群代码", "分群", "人数", "占比"]
    rows = []
    for dim, title, labels in _DIMENSIONS:
        counts = doc.get("counts", {}).get(dim, {})
        total = sum(counts.values()) or 1
        for code, n in counts.items():
            name = labels.get(code, "动机不明" if code == "none" else code)
            rows.append([title, code, name, str(n), f"{n / total:.0%}"])
    total = sum(c["size"] for c in doc.get("clusters", [])) or 1
    for c in doc.get("clusters", []):
        rows.append(["兴趣圈", c["code"], c["label"], str(c["size"]), f"{c['size'] / total:.0%}"])
    return header, rows


def suggestion_sheet(rows: Sequence[SuggestionRow], who: Mapping[int, tuple[str, str]],
                     chats: Mapping[str, str | None], tz: ZoneInfo) -> Sheet:
    """One row per suggestion or invite, newest first: for whom, why, the script, its status."""
    header = ["编号", "成员ID", "昵称", "场景", "活动", "状态", "话术", "备选话术", "依据",
              "建议动作", "群聊", "创建时间"]
    out = []
    for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True):
        member_id, name = who.get(r.member_pk, ("", ""))
        out.append([str(r.id), member_id, name, scenario_label(r.scenario), r.activity or "",
                    STATUS_LABELS.get(r.status, r.status), r.final_text or r.text,
                    " / ".join(r.alternatives), "；".join(r.why),
                    next_action_label(r.next_action),
                    (chats.get(r.chat_id) or r.chat_id) if r.chat_id else "",
                    _time(r.created_at, tz)])
    return header, out


def group_sheet(groups: Sequence[GroupView], tz: ZoneInfo) -> Sheet:
    header = ["群聊ID", "群名", "成员数", "消息数", f"近{ACTIVE_DAYS}天发言人数", "最后发言",
              "主要兴趣", "待处理话术"]
    return header, [[g.chat_id, g.name, str(g.members), str(g.messages), str(g.active_members),
                     _time(g.last_message, tz),
                     "、".join(f"{label}({n}人)" for label, n in g.interests),
                     str(g.open_scripts)] for g in groups]
