"""`siyu import-orders`, `siyu import-events`, `siyu link`: business data beside the chat.

All three read a CSV with a header. Columns are found by name; `--map 列名=字段` (repeatable,
or several pairs in one value) names the file's own columns, e.g.
``--map 下单时间=ts --map "实付金额=amount,客户ID=member"``.

Output follows `siyu ingest`: one Chinese count line (新增 / 重复 / 拒绝), each rejected row on
stderr as ``跳过 file:LINE: reason``, exit 0 when the file was read. When most rows name
nobody (or several people) the member column is wrong for this database (an unlinked CRM id,
another export's names): the run ends with a loud summary on stderr and exit 1, though the
good rows are in. A bad amount or time stays a per-row rejection: the file is right.
A file that cannot be imported at all (missing required column, wrong encoding, bad --map) is
one line on stderr and exit 1, with nothing imported. Re-running any of them changes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.cliutil import CliError, print_json, say, visible

if TYPE_CHECKING:
    from handlers.business import ImportReport
    from handlers.settings import Settings

ORDER = 20

_MAP_HELP = "列名=字段，可重复，或一次写多对（逗号分隔），如 --map 下单时间=ts"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "import-orders", help="导入订单 CSV（member, order_id, ts, amount, category, coupon_used）")
    p.add_argument("csv", metavar="CSV", help="订单 CSV 文件（UTF-8，带表头）")
    p.add_argument("--map", action="append", default=[], metavar="COL=FIELD", help=_MAP_HELP)
    p.add_argument("--json", action="store_true", help="输出 JSON 统计")
    p.set_defaults(run=run_orders)

    p = sub.add_parser(
        "import-events", help="导入内容互动 CSV（member, ts, content_type, action, duration）")
    p.add_argument("csv", metavar="CSV", help="内容互动 CSV 文件（UTF-8，带表头）")
    p.add_argument("--map", action="append", default=[], metavar="COL=FIELD", help=_MAP_HELP)
    p.add_argument("--json", action="store_true", help="输出 JSON 统计")
    p.set_defaults(run=run_events)

    p = sub.add_parser(
        "link", help="关联外部客户 ID / 手机号到成员（CSV 列 external_id 或 phone，以及 member）")
    p.add_argument("csv", metavar="CSV", help="ID 关联 CSV 文件（UTF-8，带表头）")
    p.add_argument("--map", action="append", default=[], metavar="COL=FIELD", help=_MAP_HELP)
    p.add_argument("--json", action="store_true", help="输出 JSON 统计")
    p.set_defaults(run=run_link)


def run_orders(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sources.business import ORDER_FIELDS, open_orders
    from handlers.business import import_orders

    report = _import(args, settings, ORDER_FIELDS,
                     lambda m: open_orders(args.csv, m, tz=settings.tz), import_orders)
    extra = f"，已退出成员 {report.opted_out} 笔" if report.opted_out else ""
    return _print(args, report, f"{visible(args.csv)}: 新增 {report.new} 笔订单，"
                                f"重复 {report.duplicate} 笔，拒绝 {len(report.rejects)} 行"
                                f"{extra}；更新画像 {report.personas_updated} 人")


def run_events(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sources.business import EVENT_FIELDS, open_events
    from handlers.business import import_events

    report = _import(args, settings, EVENT_FIELDS,
                     lambda m: open_events(args.csv, m, tz=settings.tz), import_events)
    extra = f"，已退出成员 {report.opted_out} 条" if report.opted_out else ""
    return _print(args, report, f"{visible(args.csv)}: 新增 {report.new} 条内容互动，"
                                f"重复 {report.duplicate} 条，拒绝 {len(report.rejects)} 行"
                                f"{extra}；更新画像 {report.personas_updated} 人")


def run_link(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sources.business import LINK_FIELDS, open_links
    from handlers.business import import_links

    report = _import(args, settings, LINK_FIELDS, lambda m: open_links(args.csv, m),
                     import_links, refresh=False)
    return _print(args, report, f"{visible(args.csv)}: 新增 {report.new} 条关联，"
                                f"重复 {report.duplicate} 条，拒绝 {len(report.rejects)} 行")


def _import(args: argparse.Namespace, settings: Settings, fields: Sequence[str],
            opener: Any, importer: Any, refresh: bool = True) -> ImportReport:
    """Check the map and the file first (whole-file errors import nothing), then import."""
    from bot.app import App
    from bot.sources.business import MapError, parse_map
    from bot.sources.common import SourceError
    from handlers.business import finish

    try:
        column_map = parse_map(args.map, fields)
        source = opener(column_map)
    except (MapError, SourceError) as exc:
        raise CliError(str(exc)) from exc
    if source.read_as:  # Excel's GBK "CSV" or UTF-16 "Unicode 文本": say how it was read
        say(f"{visible(str(args.csv))}：按 {source.read_as} 读取", err=True)
    guessed = source.recognised(column_map)
    if guessed:  # a back-end's column names, matched without --map: shown, a guess is a guess
        pairs = "，".join(f"{visible(col)}={field}" for col, field in guessed)
        say(f"按列名识别：{pairs}（不对请用 --map 列名=字段 指定）", err=True)
    # Members come from chat imports, so business data needs an existing database.
    app = App(settings, create_db=False)
    try:
        report: ImportReport = importer(app.store, source, settings, file=args.csv)
    except SourceError as exc:  # the file changed or vanished while it was read
        raise CliError(str(exc)) from exc
    if refresh:
        finish(app.store, settings, app.labels, report)
    return report


def _print(args: argparse.Namespace, report: ImportReport, summary: str) -> int:
    if args.json:
        print_json(report.to_json())
    else:
        say(summary)  # whose file name the run_* functions passed through `visible`
    limit = 50
    for r in report.rejects[:limit]:
        say(f"跳过 {visible(str(r))}", err=True)
    if len(report.rejects) > limit:
        say(f"……另有 {len(report.rejects) - limit} 行被跳过（用 --json 查看全部）", err=True)
    return _most_rejected(report)


def _most_rejected(report: ImportReport) -> int:
    """Exit 1 with a summary nobody scrolls past when most rows found no one member."""
    rows = report.new + report.duplicate + report.opted_out + len(report.rejects)
    unknown = sum(r.reason.startswith("member ") and "找不到对应成员" in r.reason
                  for r in report.rejects)
    ambiguous = sum(r.reason.startswith("member ") and "无法确定" in r.reason
                    for r in report.rejects)
    if (unknown + ambiguous) * 2 <= rows:
        return 0
    say(f"！！！{visible(str(report.file))}：{rows} 行中 {unknown + ambiguous} 行"
        f"找不到对应的成员（超过一半），其中找不到成员 {unknown} 行、对应多位成员 {ambiguous} 行。"
        "请检查 member 列：可写成员 ID、微信 ID、账号名、群昵称或别名，"
        "外部客户 ID / 手机号需先用 siyu link 关联；改好后重新导入即可（已导入的行不会重复）。",
        err=True)
    return 1
