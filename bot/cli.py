"""The `siyu` command. Chinese for people on the terminal, stable English codes in --json.

Heavy imports (jieba, SQLAlchemy, rich) happen inside the commands, so `siyu --help` is
instant. Every error that reaches the user is one line on stderr naming the file, line or
field, with a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cliutil import CliError, add_as_of, parse_as_of, print_json, read_app, resolve_member

if TYPE_CHECKING:
    from handlers.settings import Settings



def command_modules() -> list[Any]:
    """Feature modules under bot/commands/, in their declared help order."""
    import bot.commands

    mods = [importlib.import_module(f"bot.commands.{m.name}")
            for m in pkgutil.iter_modules(bot.commands.__path__)]
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="siyu",
        description="Siyu Companion 私域社群助手：从聊天记录生成用户画像、分群与话术建议。",
    )
    p.add_argument("--db", help="数据库地址 (env SIYU_DB; 默认 sqlite:///siyu.db)")
    p.add_argument("--config", help="配置文件 (默认 ./siyu.toml，如存在)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("demo", help="用内置示例社群跑一遍完整流程（离线）")
    s.add_argument("--keep", action="store_true", help="保留已有的 siyu-demo.db（默认重建）")

    s = sub.add_parser("ingest", help="导入聊天记录文件或文件夹（可重复导入）")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--format", default="auto", choices=["auto", "chatlab", "wechatmsg-csv"])
    s.add_argument("--json", action="store_true", help="输出 JSON 统计")

    s = sub.add_parser("personas", help="列出所有成员的画像摘要")
    add_as_of(s)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("persona", help="查看一位成员的画像与证据")
    s.add_argument("member", metavar="MEMBER", help="成员 ID、微信 ID 或昵称")
    add_as_of(s)
    s.add_argument("--json", action="store_true")

    for module in command_modules():
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    from bot.config import load_settings
    from handlers.settings import ConfigError

    try:
        settings = load_settings(args.config, args.db)
        return _dispatch(args, settings)
    except (CliError, ConfigError) as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        from storage.db import StorageError

        if isinstance(exc, StorageError):
            print(f"错误: {exc}", file=sys.stderr)
            return 1
        raise


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(settings, keep=args.keep, db_given=bool(args.db))
    if args.command == "ingest":
        return cmd_ingest(args, settings)
    if args.command == "personas":
        return cmd_personas(args, settings)
    if args.command == "persona":
        return cmd_persona(args, settings)
    run = getattr(args, "run", None)
    if run is not None:
        return int(run(args, settings))
    raise CliError(f"未知命令 {args.command}")


# ---- ingest ------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import App
    from bot.sources import SourceError, expand_paths, open_source
    from handlers.ingest import Ingestor, IngestReport

    try:
        paths = expand_paths(args.paths)
    except SourceError as exc:
        raise CliError(str(exc)) from exc
    app = App(settings)
    ingestor = Ingestor(app.store, app.analyzer, settings, app.labels)
    report = IngestReport()
    lines: list[str] = []
    for path in paths:
        before = (report.new, report.duplicate, len(report.rejects))
        try:
            source = open_source(path, args.format, tz=settings.tz)
            with _progress(str(path), source.total) as advance:
                ingestor.ingest(source, report, progress=advance)
        except SourceError as exc:
            report.failed_files.append(str(exc))
            lines.append(f"✗ {exc}")
            continue
        new, dup, rej = (report.new - before[0], report.duplicate - before[1],
                         len(report.rejects) - before[2])
        lines.append(f"{path}: 新增 {new} 条，重复 {dup} 条，拒绝 {rej} 行")
    ingestor.finish(report)
    if args.json:
        print_json(report.to_json())
    else:
        for line in lines:
            print(line)
        print(f"合计：新增 {report.new} 条消息，重复 {report.duplicate} 条，"
              f"跳过本账号消息 {report.self_skipped} 条，已退出成员消息 {report.opted_out} 条，"
              f"拒绝 {len(report.rejects)} 行；新成员 {report.new_members} 人，"
              f"更新画像 {report.personas_updated} 人")
        if report.truncated:
            print(f"另有 {report.truncated} 条超长消息只分析了前 {settings.max_analysed_chars} 字"
                  "（原文完整保存）")
    _print_rejects(report.rejects)
    for failed in report.failed_files:
        print(f"错误: {failed}", file=sys.stderr)
    return 1 if report.failed_files else 0


def _print_rejects(rejects: Sequence[Any], limit: int = 50) -> None:
    for r in rejects[:limit]:
        print(f"跳过 {r}", file=sys.stderr)
    if len(rejects) > limit:
        print(f"……另有 {len(rejects) - limit} 行被跳过（用 --json 查看全部）", file=sys.stderr)


class _progress:
    """A rich progress bar on stderr for big files in a terminal; silent otherwise."""

    def __init__(self, label: str, total: int | None) -> None:
        self.label, self.total = label, total
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty() or not self.total or self.total < 5000:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bar = Progress("[progress.description]{task.description}", BarColumn(),
                             MofNCompleteColumn(), TimeRemainingColumn(),
                             console=Console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task(f"导入 {Path(self.label).name}", total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


# ---- personas ----------------------------------------------------------------------------
def cmd_personas(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render import personas_table
    from handlers.personas import build_personas

    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    views = build_personas(app.store, settings, app.labels, as_of)
    if args.json:
        print_json({"as_of": as_of.isoformat(timespec="seconds"),
                     "members": [v.persona.to_json(settings.tz) for v in views]})
    else:
        print(personas_table(views, settings.tz, as_of))
    return 0


def cmd_persona(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render import persona_detail
    from handlers.personas import build_personas

    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    member = resolve_member(app, args.member)
    (view,) = build_personas(app.store, settings, app.labels, as_of, [member.pk])
    if args.json:
        print_json(view.persona.to_json(settings.tz))
        return 0
    evidence_ids = {e for t in view.persona.tags for e in t.evidence[:2]}
    quotes = app.store.messages_by_id(evidence_ids)
    print(persona_detail(view, quotes, settings.tz, as_of))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
