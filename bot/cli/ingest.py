"""`siyu ingest PATH...`: chat history files → the one ingest use case
(handlers/ingest.py: `Ingestor`), with a progress bar and counts per file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cliutil import CliError, print_json, say, visible

if TYPE_CHECKING:
    from bot.app import App
    from bot.sources import SourceError
    from handlers.ingest_pool import AnalysisPool
    from handlers.settings import Settings

ORDER = 10


def register(sub: Any) -> None:
    s = sub.add_parser("ingest", help="导入聊天记录文件或文件夹（可重复导入）")
    s.add_argument("paths", nargs="+", metavar="PATH",
                   help="聊天导出文件或文件夹（可多个；文件夹里的导出文件都会导入）")
    s.add_argument("--format", default="auto", choices=["auto", "chatlab", "wechatmsg-csv"],
                   help="文件格式：auto 自动识别（默认）、chatlab（JSON/JSONL）、wechatmsg-csv")
    s.add_argument("--json", action="store_true", help="输出 JSON 统计")
    s.add_argument("--workers", type=int, metavar="N",
                   help="分析用的进程数（默认：配置 [ingest] workers，否则每个 CPU 核一个；"
                        "1 = 单进程；小文件总是单进程）")
    s.set_defaults(run=cmd_ingest)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import App
    from bot.sources import SourceError, expand_paths
    from handlers.ingest_pool import AnalysisPool, use_pool, workers_setting
    from handlers.settings import ConfigError

    unreadable: list[SourceError] = []
    try:
        paths = expand_paths(args.paths, unreadable)
        workers = workers_setting(settings, args.workers)
    except (SourceError, ConfigError) as exc:
        raise CliError(str(exc)) from exc
    app = App(settings)
    if not use_pool(workers, _total_bytes(paths)):
        return _run(args, settings, app, paths, unreadable, None)
    # Forked before the database is opened (bot/app.py opens it lazily): workers inherit the
    # loaded analyser and no connection.
    with AnalysisPool(app.analyzer, workers) as pool:
        return _run(args, settings, app, paths, unreadable, pool)


def _total_bytes(paths: Sequence[Path]) -> int:
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            continue  # reported when the file is opened
    return total


def _run(args: argparse.Namespace, settings: Settings, app: App, paths: Sequence[Path],
         unreadable: Sequence[SourceError], pool: AnalysisPool | None) -> int:
    from bot.sources import SourceError, open_source
    from handlers.ingest import Ingestor, IngestReport
    from handlers.ingest_pool import IngestWorkerError

    ingestor = Ingestor(app.store, app.analyzer, settings, app.labels, pool=pool)
    report = IngestReport()
    lines: list[str] = []
    for exc in unreadable:  # a folder that cannot be listed, reported like a file
        report.failed_files.append(str(exc))
        lines.append(f"✗ {exc}")
    for path in paths:
        before = (report.new, report.duplicate, len(report.rejects), len(report.conflicts))
        try:
            source = open_source(path, args.format, tz=settings.tz)
            with _progress(str(path), source.total) as advance:
                ingestor.ingest(source, report, progress=advance)
        except IngestWorkerError as exc:
            raise CliError(f"{visible(str(path))}: {exc}") from exc
        except SourceError as exc:
            report.failed_files.append(str(exc))
            lines.append(f"✗ {visible(str(exc))}")
            continue
        new, dup, rej, clash = (report.new - before[0], report.duplicate - before[1],
                                len(report.rejects) - before[2],
                                len(report.conflicts) - before[3])
        conflicts = f"，冲突 {clash} 条" if clash else ""
        lines.append(f"{visible(str(path))}: 新增 {new} 条，重复 {dup} 条{conflicts}，"
                     f"拒绝 {rej} 行")
    ingestor.finish(report)
    if args.json:
        print_json(report.to_json())
    else:
        for line in lines:
            say(line)
        conflicts = f"冲突 {len(report.conflicts)} 条（同一 id 内容不同，未覆盖），"
        say(f"合计：新增 {report.new} 条消息，重复 {report.duplicate} 条，"
            f"{conflicts if report.conflicts else ''}"
            f"跳过本账号消息 {report.self_skipped} 条，已退出成员消息 {report.opted_out} 条，"
            f"拒绝 {len(report.rejects)} 行；新成员 {report.new_members} 人，"
            f"更新画像 {report.personas_updated} 人")
        if report.truncated:
            say(f"另有 {report.truncated} 条超长消息只分析了前 {settings.max_analysed_chars} 字"
                  "（原文完整保存）")
    for c in report.conflicts:
        say(f"冲突 {visible(str(c))}", err=True)
    _print_rejects(report.rejects)
    for failed in report.failed_files:
        say(f"错误: {visible(failed)}", err=True)
    return 1 if report.failed_files else 0


def _print_rejects(rejects: Sequence[Any], limit: int = 50) -> None:
    for r in rejects[:limit]:
        say(f"跳过 {visible(str(r))}", err=True)
    if len(rejects) > limit:
        say(f"……另有 {len(rejects) - limit} 行被跳过（用 --json 查看全部）", err=True)


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
        task = self._bar.add_task(f"导入 {visible(Path(self.label).name)}", total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
