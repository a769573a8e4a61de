"""Managers' commands: 分群, 画像 <分群>, 报告, 模式, 变化 — the picture, in chat.

All answers carry community data, so they go privately (or into a configured managers'
group). `分群` runs a fresh segmentation and stores it; the others read the latest stored run
(running one first when there is none), so a report in chat matches `siyu report`.

`分群` and `报告` take seconds (a segmentation, a matplotlib chart): they answer at once and
run on the bot's background lane (bot/background.py), sending the result when it is ready, so
members' messages keep flowing meanwhile. `模式`, `变化` and `画像 <分群>` answer from the
stored run at once; before the first run exists they start it on the same lane and answer
when it is stored. One segmentation at a time: a second `分群` while one is on its way (asked
in chat or the scheduled one) is told so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from bot.background import failure_line
from bot.chart import ChartError, draw_report_chart
from bot.dispatcher import CommandContext, Reply, Router
from bot.report import card_text, change_lines, chart_panels, report_text, size_lines
from bot.roles import MANAGER
from bot.routers.context import BotContext
from handlers.feedback import feedback_summary
from handlers.segments import SegmentOutcome, latest_or_new, latest_stored, run_and_store
from handlers.settings import section
from persona.scripts import variant_label
from persona.suggest import scenario_label
from storage.segments import StoredRun

MANAGERS = frozenset({MANAGER})
# The background work's names: one segmentation at a time (`Background.pending`).
SEGMENT = "segment"
REPORT = "report"


def feedback_lines(summary: dict[str, object], labels: Mapping[str, str]) -> list[str]:
    """Acceptance and response rates per scenario and playbook variant, for the report; the
    variant in words (答疑（品质问题+价格敏感型）, not about_quality+price)."""
    lines = []
    for item in summary.get("by_variant", []) or []:  # type: ignore[union-attr]
        if not isinstance(item, dict) or not item.get("total"):
            continue
        acc = item.get("acceptance_rate")
        resp = item.get("response_rate")
        variant = variant_label(str(item["variant"]), labels)
        lines.append(f"{scenario_label(str(item['scenario']))}（{variant}）："
                     f"{item['total']} 条，"
                     f"采用率 {_pct(acc)}，回复率 {_pct(resp)}")
    return lines[:8]


def _pct(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, float) else "—"


def build_report(bot: BotContext, now: datetime) -> tuple[str, Path | None]:
    """The report text and its chart (None, with the reason in the text, when no CJK font)."""
    store, settings = bot.app.store, bot.settings
    run, prev_run = latest_or_new(store, settings, bot.app.labels, now)
    doc, prev = run.result, prev_run.result if prev_run else None
    text = report_text(doc, prev, settings.tz,
                       feedback=feedback_lines(feedback_summary(store, now, settings),
                                               bot.app.labels))
    # One file per process, overwritten by each report: no temp folder left behind per call.
    chart = Path(tempfile.gettempdir()) / "siyu-report" / f"report-{os.getpid()}.png"
    title = f"社群分群报告 · 截至 {run.as_of.astimezone(settings.tz):%Y-%m-%d %H:%M}"
    try:
        draw_report_chart(chart, title, chart_panels(doc, prev),
                          section(settings, "report").get("font"))
    except ChartError as exc:
        return f"{text}\n\n（图表未生成：{exc}）", None
    return text, chart


def segment_now(bot: BotContext, now: datetime) -> SegmentOutcome:
    """A segmentation stored, for a worker thread.

    An erasure in chat (/删除, on the loop) between the run's reads and its write makes the
    write fail: the run's member rows name a member who is gone (a foreign key), so a run
    never counts an erased member, but the asker would get a failure. Run once more then.
    """
    store, settings, labels = bot.app.store, bot.settings, bot.app.labels
    erasures = bot.erasures
    try:
        return run_and_store(store, settings, labels, now)
    except Exception:
        if bot.erasures == erasures:
            raise
        return run_and_store(store, settings, labels, now)


def segment_summary(outcome: SegmentOutcome) -> str:
    """What /分群 sends when the run is stored: sizes against the run it compared with."""
    doc = outcome.result.stored_summary()  # the summary: no member's assignment or tag
    prev = outcome.previous.result if outcome.previous else None
    lines = [f"分群摘要（第 {outcome.run_id} 次，目标：{doc.get('goal_label', '')}）"]
    lines += size_lines(doc, prev)
    return "\n".join(lines)


def from_latest_run(bot: BotContext, ctx: CommandContext, what: str,
                    answer: Callable[[StoredRun], str]) -> Reply:
    """`answer` from the newest stored run at once; with none stored yet, a first
    segmentation on the background lane, `answer` sent when it is stored. Done inline, that
    first run held every group for seconds (the 300-member demo: 1.5 s)."""
    found = latest_stored(bot.app.store, ctx.now)
    if found is not None:
        return Reply(answer(found))

    def first_run() -> str:  # queued behind another: that one stored the run already
        stored = latest_stored(bot.app.store, ctx.now)
        if stored is None:
            segment_now(bot, ctx.now)
            stored = latest_stored(bot.app.store, ctx.now)
            assert stored is not None
        return answer(stored)

    async def done(text: str) -> None:
        await ctx.answer(Reply(text))

    async def failed(exc: Exception) -> None:
        await ctx.answer(Reply(failure_line(what, exc)))

    bot.background.in_thread(SEGMENT, first_run, done=done, failed=failed)
    return Reply(f"还没有分群结果：正在第一次分群，完成后把{what}发给你…")


def make_router(bot: BotContext) -> Router:
    router = Router("manager")

    @router.command("分群", "segments", roles=MANAGERS, example="/分群",
                    help="重新分群并给出摘要")
    async def segments(ctx: CommandContext) -> Reply:
        if bot.background.pending(SEGMENT):
            return Reply("已经有一次分群正在进行，完成后会发出结果；请稍后再发 /分群。")

        async def done(outcome: SegmentOutcome) -> None:
            await ctx.answer(Reply(segment_summary(outcome)))

        async def failed(exc: Exception) -> None:
            await ctx.answer(Reply(failure_line("重新分群", exc)))

        bot.background.in_thread(SEGMENT, lambda: segment_now(bot, ctx.now),
                                 done=done, failed=failed)
        return Reply("正在重新分群，完成后发给你…")

    @router.command("报告", "report", roles=MANAGERS, example="/报告",
                    help="分群报告（文字+图表）")
    async def report(ctx: CommandContext) -> Reply:
        async def done(result: tuple[str, Path | None]) -> None:
            text, chart = result
            await ctx.answer(Reply(text, image=chart))

        async def failed(exc: Exception) -> None:
            await ctx.answer(Reply(failure_line("分群报告", exc)))

        bot.background.in_thread(REPORT, lambda: build_report(bot, ctx.now),
                                 done=done, failed=failed)
        return Reply("正在生成分群报告（文字+图表），完成后发给你…")

    @router.command("模式", "patterns", roles=MANAGERS, example="/模式",
                    help="兴趣与购买之间的关联")
    async def patterns(ctx: CommandContext) -> Reply:
        def answer(run: StoredRun) -> str:
            items = [f"· {p['description']}" for p in list(run.result.get("patterns") or [])[:8]]
            return "发现的模式：\n" + ("\n".join(items) or "暂无足够数据支持的模式")

        return from_latest_run(bot, ctx, "发现的模式", answer)

    @router.command("变化", "changes", roles=MANAGERS, example="/变化",
                    help="与上次分群相比的变化")
    async def changes(ctx: CommandContext) -> Reply:
        return from_latest_run(bot, ctx, "分群变化",
                               lambda run: "\n".join(change_lines(run.result)))

    return router


def segment_describer(bot: BotContext) -> Callable[[str, CommandContext], Reply]:
    """`画像 <分群>` for managers: the persona card of a segment or circle, by code or label."""
    tz = bot.settings.tz

    def describe(code: str, ctx: CommandContext) -> Reply:
        def answer(run: StoredRun) -> str:
            cards = run.result.get("cards", [])
            for card in cards:
                seg = card["segment"]
                if code in (seg["code"], seg["label"]):
                    return "\n".join(card_text(card, tz))
            known = "、".join(f"{c['segment']['code']}({c['segment']['label']})" for c in cards)
            return f"没有分群「{code}」的人物卡。可选：{known or '（暂无，先发送 /分群）'}"

        return from_latest_run(bot, ctx, f"「{code}」的人物卡", answer)

    return describe
