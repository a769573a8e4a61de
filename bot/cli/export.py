"""`siyu export` (members, segments, suggestions, groups as CSV) and `siyu groups` (the
per-group view): what an operator takes into a spreadsheet, or reads group by group.

CSV is written as UTF-8 with a BOM, because Excel reads a BOM-less UTF-8 file as the local
code page and shows Chinese as mojibake. Cells come from chat exports, so one that starts
like a formula ("=", "+", "-", "@") is prefixed with "'" — Excel would run it otherwise.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cliutil import CliError, add_as_of, parse_as_of, print_json, read_app, say, visible

if TYPE_CHECKING:
    from handlers.exports import Sheet
    from handlers.settings import Settings

ORDER = 32
KINDS = {"members": "成员（每人一行：活跃、订单、分群、主要标签）",
         "segments": "分群（每个分群一行：人数、占比）",
         "suggestions": "话术与邀请（每条一行：对象、话术、状态）",
         "groups": "群聊（每群一行：人数、活跃、兴趣、待处理话术）"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def register(sub: Any) -> None:
    s = sub.add_parser("export", help="导出 CSV（Excel 可直接打开）：成员、分群、话术或群聊")
    s.add_argument("kind", choices=list(KINDS), metavar="KIND",
                   help="导出什么：" + "；".join(f"{k} {v}" for k, v in KINDS.items()))
    s.add_argument("-o", "--out", metavar="FILE.csv",
                   help="写到这个文件（默认 siyu-KIND.csv；写 - 则输出到屏幕）")
    s.add_argument("--segment", metavar="CODE", help="只导出这个分群的成员（仅 members）")
    add_as_of(s)
    # segments read the newest stored run; only a database that has none needs one stored
    s.set_defaults(run=cmd_export, writes="先运行并保存一次分群（还没有保存过分群结果）")

    s = sub.add_parser("groups", help="按群查看：人数、近 7 天发言人数、主要兴趣、待处理话术")
    add_as_of(s)
    s.add_argument("--json", action="store_true", help="输出 JSON")
    s.set_defaults(run=cmd_groups)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    if args.segment is not None and args.kind != "members":
        raise CliError("--segment 只用于 siyu export members")
    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    sheet = _sheet(args, settings, app, as_of)
    header, rows = sheet
    if args.out == "-":
        sys.stdout.write("\ufeff")
        _write(sys.stdout, header, rows)
        return 0
    path = Path(args.out or f"siyu-{args.kind}.csv")
    if path.is_dir():
        raise CliError(f"--out: {visible(str(path))} 是文件夹；请给出文件名，如 "
                       f"{visible(str(path / f'siyu-{args.kind}.csv'))}")
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            _write(fh, header, rows)
    except OSError as exc:
        raise CliError(f"--out: 无法写入 {visible(str(path))}（{exc.strerror or exc}）") from exc
    say(f"已导出 {len(rows)} 行{KINDS[args.kind].split('（')[0]}：{visible(str(path))}")
    return 0


def _sheet(args: argparse.Namespace, settings: Settings, app: Any, as_of: Any) -> Sheet:
    from bot.cli.personas import member_views
    from handlers import exports

    tz = settings.tz
    if args.kind == "members":
        return exports.member_sheet(member_views(app, settings, as_of, args.segment), tz)
    if args.kind == "segments":
        from handlers.segments import latest_or_new

        latest, _ = latest_or_new(app.store, settings, app.labels, as_of)
        return exports.segment_sheet(latest.result)
    if args.kind == "suggestions":
        from storage.suggestions import SuggestionStore

        who = {m.pk: (m.member_id, m.name) for m in app.store.members()}
        rows = SuggestionStore(app.store.engine).all(until=as_of)
        return exports.suggestion_sheet(rows, who, app.store.chat_names(), tz)
    from handlers.groups import group_views

    return exports.group_sheet(group_views(app.store, settings, app.labels, as_of), tz)


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _write(fh: Any, header: list[str], rows: list[list[str]]) -> None:
    writer = csv.writer(fh)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)


def cmd_groups(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render import local, pad, width
    from handlers.groups import ACTIVE_DAYS, group_views

    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    groups = group_views(app.store, settings, app.labels, as_of)
    if args.json:
        print_json({"as_of": as_of.isoformat(timespec="seconds"),
                    "groups": [g.to_json(settings.tz) for g in groups]})
        return 0
    if not groups:
        say("还没有群聊。先用 siyu ingest 导入聊天记录。")
        return 0
    head = ["群名", "成员", "消息", f"近{ACTIVE_DAYS}天发言", "最后发言", "待处理话术", "主要兴趣"]
    rows = [[visible(g.name), str(g.members), str(g.messages), str(g.active_members),
             local(g.last_message, settings.tz, "%m-%d %H:%M"), str(g.open_scripts),
             "、".join(f"{visible(label)} {n}人" for label, n in g.interests) or "—"]
            for g in groups]
    cols = [max(width(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = [f"群聊概览（截至 {local(as_of, settings.tz)}，共 {len(groups)} 个群；"
             "成员与消息只计客户，不含店员）"]
    for r in [head, *rows]:
        lines.append("  ".join(pad(c, cols[i]) for i, c in enumerate(r[:-1])) + "  " + r[-1])
    say("\n".join(lines))
    return 0
