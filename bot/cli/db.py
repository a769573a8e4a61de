"""`siyu db current` / `siyu db upgrade`: the database's schema revision, and upgrading it.

Every command upgrades an older database when it opens it; `db upgrade` does only that, so
an operator can upgrade (and see what changed) before starting the bot, and `db current`
looks without changing anything.
"""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 90

def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "db", help="数据库结构版本：查看（current）或升级到本程序的版本（upgrade）")
    actions = p.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    s = actions.add_parser("current", help="显示数据库的结构版本，不做任何修改")
    s.add_argument("--json", action="store_true", help="输出 JSON")
    s.set_defaults(run=run_current)
    s = actions.add_parser("upgrade",
                           help="把数据库升级到本程序的结构版本（任何命令打开时也会自动升级）")
    s.add_argument("--json", action="store_true", help="输出 JSON")
    s.set_defaults(run=run_upgrade)


def _describe(revision: str | None, state: str, head: str) -> str:
    upgrade = "运行 siyu db upgrade（任何命令打开它时也会自动升级）"
    return {
        "current": f"结构版本 {revision}，已是最新",
        "behind": f"结构版本 {revision}，可升级到 {head}：{upgrade}",
        "pre_alembic": (f"旧版数据库（13a4b61 及更早写入，未记录迁移版本），"
                        f"可升级到 {head}：{upgrade}"),
        "newer": (f"结构版本 {revision} 由更新版本的 siyu 写入，"
                  f"本程序最高只认识 {head}；请升级 siyu"),
        "empty": f"空数据库，首次打开时创建到结构版本 {head}",
    }[state]


def _short(revision: str | None, state: str) -> str:
    return {"pre_alembic": "旧版（未记录迁移版本）", "empty": "空数据库"}.get(state, str(revision))


def run_current(args: argparse.Namespace, settings: Any) -> int:
    from bot.cliutil import print_json, say, visible
    from storage.migrations import HEAD
    from storage.schema_state import schema_state

    st = schema_state(settings.db)
    if args.json:
        print_json({"database": st.shown, "revision": st.revision, "state": st.state,
                    "head": HEAD})
    else:
        say(f"{visible(st.shown)}: {_describe(st.revision, st.state, HEAD)}")
    return 0


def run_upgrade(args: argparse.Namespace, settings: Any) -> int:
    from bot.cliutil import print_json, say, visible
    from storage.db import open_database
    from storage.schema_state import schema_state

    before = schema_state(settings.db)
    open_database(settings.db, create=False).dispose()
    after = schema_state(settings.db)
    if args.json:
        print_json({"database": after.shown, "from": before.revision, "to": after.revision,
                    "before": before.state, "after": after.state})
    elif before == after:
        say(f"{visible(after.shown)}: 已是最新，结构版本 {after.revision}")
    else:
        say(f"{visible(after.shown)}: 已升级，{_short(before.revision, before.state)} → "
              f"结构版本 {after.revision}")
    return 0
