"""`siyu forget MEMBER`: erase everything held about a member (the /删除 command's twin).

Erasing cannot be undone, so the member must be named exactly (member id, platform id or
name; no substring, no case folding), a name shared by several members erases nobody, and a
person confirms at the terminal unless `--yes` says they already did.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

ORDER = 50

# What each table holds, in the words of the person who asked; tables not named here are
# summed up as "其他记录".
_DELETED_LABELS = (("message", "消息", "条"), ("orders", "订单", "笔"),
                   ("content_event", "内容互动", "条"), ("tag", "标签", "个"),
                   ("suggestion", "建议草稿", "条"), ("external_link", "外部账号关联", "个"),
                   ("identity", "微信账号", "个"))
_SKIP = {"member", "member_segment", "member_tags", "member_keywords", "member_activity"}


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "forget", help="删除关于某位成员的全部数据（须与成员 ID、微信 ID 或昵称完全一致）")
    p.add_argument("member", metavar="MEMBER", help="成员 ID、微信 ID 或昵称（完全一致）")
    p.add_argument("--yes", action="store_true", help="不再询问，直接删除")
    p.add_argument("--json", action="store_true", help="输出 JSON（删除了什么）")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Any) -> int:
    from bot.cliutil import CliError, print_json, read_app, say
    from handlers.privacy import forget
    from storage.privacy import PrivacyStore

    if not args.member:
        raise CliError("forget: 请给出要删除的成员（成员 ID、微信 ID 或昵称），不能为空")
    app = read_app(settings)
    rows = PrivacyStore(app.store.engine).find_exact(args.member)
    if not rows:
        raise CliError(f"找不到成员 {args.member!r}：须与成员 ID、微信 ID 或昵称完全一致"
                       "（不区分大小写的或部分匹配不算）")
    if len(rows) > 1:
        names = "、".join(f"{r.name}（{r.member_id}）" for r in rows)
        raise CliError(f"有 {len(rows)} 位成员叫 {args.member!r}：{names}；"
                       "未删除任何数据，请用成员 ID 指定一位")
    member = rows[0]
    if not args.yes and not _confirmed(member.name, member.member_id):
        return 1
    done = forget(app.store, settings, app.labels, member)
    if args.json:
        print_json({"member_id": member.member_id, "removed": done.erasure.removed,
                    "runs_recomputed": done.runs_recomputed,
                    "suppressed_ids": done.erasure.suppressed,
                    "files_clean": done.files_clean})
    else:
        say(summary(done))
    return 0


def _confirmed(name: str, member_id: str) -> bool:
    """Ask at a terminal; refuse (one line on stderr) when nobody can be asked."""
    from bot.cliutil import CliError, say, visible

    name, member_id = visible(name), visible(member_id)
    if not sys.stdin.isatty():
        raise CliError(f"forget: 将删除 {name}（{member_id}）的全部数据且无法恢复；"
                       "当前无法在终端确认，确认无误请加 --yes")
    answer = input(f"将删除 {name}（{member_id}）的全部数据，且无法恢复。确定吗？[y/N] ")
    if answer.strip().lower() in ("y", "yes", "是"):
        return True
    say("已取消，未删除任何数据。")
    return False


def summary(done: Any) -> str:
    """The plain-language account of an erasure (`handlers.privacy.Forgotten`)."""
    deleted = done.erasure.deleted
    parts = [f"{label} {deleted[t]} {unit}" for t, label, unit in _DELETED_LABELS
             if deleted.get(t)]
    named = {t for t, _, _ in _DELETED_LABELS} | _SKIP
    other = sum(n for t, n in deleted.items() if t not in named)
    if other:
        parts.append(f"其他记录 {other} 条")
    lines = [f"已删除 {done.member.name}（{done.member.member_id}）的全部数据："
             + ("、".join(parts) or "成员资料") + "，以及推断的画像和分群记录。"]
    mentions = sum(done.erasure.scrubbed.values())
    if mentions:
        lines.append(f"其他成员的消息和记录中提到 TA 的 {mentions} 处已改为「某成员」。")
    if done.runs_recomputed:
        lines.append(f"已保存的 {done.runs_recomputed} 次分群结果已去掉 TA 重新计算。")
    lines.append("以后导入的聊天记录和机器人都会跳过 TA（只保存了无法还原的账号摘要），"
                 "除非 TA 本人发送 /恢复 重新加入。")
    if not done.files_clean:
        lines.append("注意：数据库文件未能立即整理（其他程序正在使用）。删除的内容可能还留在"
                     "文件的空闲空间或日志里，请在没有导入、机器人停止时对数据库执行 VACUUM。")
    return "\n".join(lines)
