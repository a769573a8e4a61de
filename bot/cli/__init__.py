"""The `siyu` command. Chinese for people on the terminal, stable English codes in --json.

Each subcommand lives in a module of this package (bot/cli/ingest.py, personas.py, …) with
`ORDER: int` (its place in `siyu --help`) and `register(subparsers)`, which adds its parsers
and sets `run=<function(args, settings) -> int>` on each; `siyu demo` is the one built in.
Heavy imports (jieba, SQLAlchemy, rich) happen inside the run functions, so `siyu --help` is
instant. Every error that reaches the user is one line on stderr naming the file, line or
field, with a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.cliutil import CliError, say, visible

if TYPE_CHECKING:
    from handlers.settings import Settings


def command_modules() -> list[Any]:
    """The subcommand modules of this package, in their declared help order."""
    mods = [importlib.import_module(f"{__name__}.{m.name}")
            for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
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

    settings: Settings | None = None
    try:
        settings = load_settings(args.config, args.db)
        code = _dispatch(args, settings)
        # Flushed here, not at exit: a reader gone by then (`| head`) is a traceback there.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        say("已中断（Ctrl-C）：已提交的写入保留，重新运行同一命令即可继续", err=True)
        return 130
    except (CliError, ConfigError) as exc:
        return _fail(str(exc))
    except Exception as exc:
        from storage.db import StorageError, display_url
        from storage.sqlite_errors import is_read_only

        if isinstance(exc, StorageError):
            return _fail(str(exc))
        if is_read_only(exc) and settings is not None:
            # The open fell back to reading (storage/db.py: open_database); this command
            # writes. Its transaction rolled back, so nothing is half-written.
            writes = getattr(args, "writes", "写入数据")
            return _fail(f"{display_url(settings.db)}: 数据库只读，而 siyu {args.command} "
                         f"需要{writes}；请检查数据库文件及其所在目录的写权限")
        raise


def _fail(reason: str) -> int:
    say(f"错误: {visible(reason)}", err=True)
    return 1


def _reader_gone() -> int:
    """The reader of stdout left (`siyu personas | head`): stop quietly, as Unix tools do.

    stdout is pointed at /dev/null so the interpreter's own flush at exit has nowhere to
    fail; 141 is what a shell reports for a tool ended by SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(settings, keep=args.keep, db_given=bool(args.db))
    run = getattr(args, "run", None)
    if run is not None:
        return int(run(args, settings))
    raise CliError(f"未知命令 {args.command}")



