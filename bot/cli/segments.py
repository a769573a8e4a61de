"""`siyu segment` and `siyu report`: the picture a manager uses."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cliutil import CliError, add_as_of, say, visible

ORDER = 30


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "segment", help="运行分群（价值/生命周期/动机/分层/兴趣圈），保存并输出人物卡")
    add_as_of(p)
    p.add_argument("--json", action="store_true", help="输出 JSON（分群契约格式）")
    p.set_defaults(run=run_segment, writes="保存本次分群结果")

    p = sub.add_parser("report", help="管理者报告：分群规模与变化、人物卡、模式、痛点")
    add_as_of(p)
    p.add_argument("--chart", metavar="FILE.png",
                   help="同时输出分群图表 (PNG)；图表失败时文字报告照常输出")
    p.add_argument("--json", action="store_true", help="输出 JSON（本次分群的完整文档）")
    # Reads the newest stored run; only a database that has none needs one stored first.
    p.set_defaults(run=run_report, writes="先运行并保存一次分群（还没有保存过分群结果）")


def run_segment(args: argparse.Namespace, settings: Any) -> int:
    from bot.cliutil import parse_as_of, print_json, read_app
    from bot.report import report_text
    from handlers.segments import run_and_store

    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    outcome = run_and_store(app.store, settings, app.labels, as_of)
    if args.json:
        print_json({"run_id": outcome.run_id, **outcome.result.to_json()})
        return 0
    # the text needs the summary only, not every member's assignment
    doc = outcome.result.stored_summary()
    prev = outcome.previous.result if outcome.previous else None
    say(report_text(doc, prev, settings.tz, title=f"分群完成（第 {outcome.run_id} 次）",
                      cards=len(doc.get("cards", []))))
    return 0


def run_report(args: argparse.Namespace, settings: Any) -> int:
    from bot.chart import ChartError, draw_report_chart
    from bot.cliutil import parse_as_of, print_json, read_app
    from bot.report import chart_panels, report_text
    from bot.routers.manager import feedback_lines
    from handlers.feedback import feedback_summary
    from handlers.segments import latest_or_new, run_document
    from handlers.settings import section

    chart = _chart_path(args.chart) if args.chart else None
    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    latest, previous = latest_or_new(app.store, settings, app.labels, as_of)
    doc, prev = latest.result, previous.result if previous else None
    feedback = feedback_lines(feedback_summary(app.store, as_of, settings), app.labels)
    # The report comes first and always: a chart that cannot be drawn costs the picture,
    # never the text a manager came for.
    if args.json:
        print_json({"run_id": latest.id, "previous_run_id": previous.id if previous else None,
                    **run_document(app.store, latest), "feedback": feedback})
    else:
        say(report_text(doc, prev, settings.tz, feedback=feedback))
    if chart is None:
        return 0
    title = f"社群分群报告 · 截至 {latest.as_of.astimezone(settings.tz):%Y-%m-%d %H:%M}"
    try:
        draw_report_chart(chart, title, chart_panels(doc, prev),
                          section(settings, "report").get("font"))
    except (ChartError, OSError) as exc:
        # One line on stderr and exit 1 (DESIGN.md: errors name what failed); the text above
        # is already out.
        why = str(exc) if isinstance(exc, ChartError) else f"{type(exc).__name__}: {exc}"
        sys.stdout.flush()  # the text first, then the reason, in a shared terminal too
        say(f"图表没有生成：{visible(why)}", err=True)
        return 1
    if not args.json:
        say(f"\n图表已保存：{visible(str(chart))}")
    return 0


def _chart_path(value: str) -> Path:
    """The chart's file as it will really be named, checked before any work: matplotlib adds
    ".png" to a name without a suffix (the report then named a file that was not there), and
    a folder is no file name."""
    path = Path(value)
    if path.is_dir():
        raise CliError(f"--chart: {visible(value)} 是文件夹；请给出图片文件名，"
                       f"如 {visible(str(path / 'report.png'))}")
    return path if path.suffix else path.with_name(f"{path.name}.png")
