"""Chinese text of suggestions and invite drafts, for the terminal and the operator's chat.

Plain strings, like bot/render.py, so the live bot can send the same text to the operator.
People read labels; the codes stay in --json.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.render import local, segment_line
from handlers.invites import InviteRun
from handlers.suggest import SuggestionView
from persona.persona import Persona
from persona.suggest import next_action_label, scenario_label

STATUS_LABELS = {"pending": "待处理", "sent": "已发送", "edited": "改写后发送",
                 "dismissed": "已忽略"}


def _reasons(view: SuggestionView, skip_first: bool) -> str:
    labels = [r["label"] for r in view.row.reasons]
    return " · ".join(labels[1:] if skip_first else labels)


def _scripts(view: SuggestionView, indent: str) -> list[str]:
    r = view.row
    lines = [f"{indent}话术：{r.text}" + ("（已润色）" if r.polished else "")]
    for i, alt in enumerate(r.alternatives, start=1):
        lines.append(f"{indent}备选{i}：{alt}")
    return lines


def suggestion_text(view: SuggestionView, tz: ZoneInfo) -> str:
    """One suggestion as the operator reads it: handle, trigger, scripts, why, next step."""
    r = view.row
    head = (f"#{r.id} {scenario_label(r.scenario)} · {STATUS_LABELS.get(r.status, r.status)}"
            f" · 建议动作：{next_action_label(r.next_action)}")
    first = r.reasons[0]["label"] if r.reasons else ""
    lines = [head, f"  触发：{first}（{local(r.trigger_ts, tz, '%m-%d %H:%M')}）"]
    lines += _scripts(view, "  ")
    lines.append(f"  依据：{_reasons(view, skip_first=True)}")
    if r.status == "pending":
        lines.append(f"  发送后回复「已发 {r.id}」，不合适回复「忽略 {r.id}」")
    return "\n".join(lines)


def polished_text(view: SuggestionView) -> str:
    """The follow-up of a suggestion already sent plain (bot/polish.py): its handle, so the
    operator knows which script it replaces, and the polished script."""
    r = view.row
    return "\n".join([f"#{r.id} {scenario_label(r.scenario)} · 润色版（替换上一条的话术）",
                      f"  话术：{r.text}",
                      f"  发送后回复「已发 {r.id}」，不合适回复「忽略 {r.id}」"])


def suggestions_text(persona: Persona, views: Sequence[SuggestionView], tz: ZoneInfo,
                     as_of: datetime, opted_out: bool = False,
                     circles: Mapping[str, str] | None = None) -> str:
    lines = [f"{persona.name}（{persona.member_id}）  截至 {local(as_of, tz)}",
             f"  分群：{segment_line(persona.segments, circles)}", ""]
    if opted_out:
        lines.append("该成员已选择退出：不生成任何话术或邀请。")
    elif not views:
        lines.append("暂无需要跟进的消息（近期没有提问、抱怨或购买意向，也不是新人或沉默成员）。")
    lines += [suggestion_text(v, tz) + "\n" for v in views]
    return "\n".join(lines).rstrip()


def invites_text(run: InviteRun, label: str, tz: ZoneInfo, as_of: datetime) -> str:
    lines = [f"活动邀请草稿：「{run.activity}」 · 分群 {label}（{run.segment}） · "
             f"截至 {local(as_of, tz)}",
             f"邀请 {len(run.invites)} 人，跳过 {len(run.skipped)} 人", ""]
    if not run.invites:
        lines.append("这个分群里没有可邀请的成员。")
    for v in run.invites:
        lines.append(f"#{v.row.id} {v.name}（{v.member_id}） · "
                     f"{STATUS_LABELS.get(v.row.status, v.row.status)}")
        lines += _scripts(v, "  ")
        lines.append(f"  依据：{_reasons(v, skip_first=False)}")
        lines.append("")
    if run.skipped:
        lines.append("跳过：")
        lines += [f"  {s.name}（{s.member_id}）：{s.detail} [{s.reason}]" for s in run.skipped]
    return "\n".join(lines).rstrip()
