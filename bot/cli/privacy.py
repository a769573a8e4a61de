"""`siyu forget MEMBER`: erase everything held about a member (the 删除 command's twin)."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 50


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("forget", help="删除关于某位成员的全部数据")
    p.add_argument("member", metavar="MEMBER", help="成员 ID、微信 ID 或昵称")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Any) -> int:
    from bot.cliutil import print_json, read_app, resolve_member, say
    from storage.privacy import PrivacyStore

    app = read_app(settings)
    member = resolve_member(app, args.member)
    removed = PrivacyStore(app.store.engine).forget_member(member.pk)
    if args.json:
        print_json({"member_id": member.member_id, "removed": removed})
    else:
        parts = "，".join(f"{table} {n} 行" for table, n in sorted(removed.items()) if n)
        say(f"已删除 {member.name}（{member.member_id}）的全部数据：{parts}")
    return 0
