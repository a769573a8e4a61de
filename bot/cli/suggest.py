"""`siyu suggest MEMBER` and `siyu invite ACTIVITY --segment CODE`: scripts for the operator.

Both store what they draft (pending, with a numeric handle), so asking twice shows the same
drafts and the operator's "已发 N" / "忽略 N" can refer to them.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.cliutil import (
    CliError,
    add_as_of,
    parse_as_of,
    print_json,
    read_app,
    resolve_member,
    say,
    visible,
)

if TYPE_CHECKING:
    from handlers.settings import Settings

ORDER = 40


def register(sub: Any) -> None:
    s = sub.add_parser("suggest", help="为成员最近的提问/抱怨/购买意向生成回复话术")
    s.add_argument("member", metavar="MEMBER", help="成员 ID、微信 ID 或昵称")
    add_as_of(s)
    s.add_argument("--json", action="store_true", help="输出 JSON（话术契约格式）")
    s.set_defaults(run=cmd_suggest, writes="保存话术草稿")

    s = sub.add_parser("invite", help="为一个分群的每位成员起草活动邀请")
    s.add_argument("activity", metavar="ACTIVITY", help="活动名称，如 周末亲子烘焙课")
    s.add_argument("--segment", required=True, metavar="CODE",
                   help="分群代码：high/growth/general、potential/new/mature/declining、"
                        "price/quality/service、core/ordinary 或兴趣圈 c1…")
    s.add_argument("--time", metavar="TEXT", help="活动时间，原样写进邀请，如「12月12日 19:00」")
    s.add_argument("--place", metavar="TEXT", help="活动地点，原样写进邀请，如「门店二楼」")
    s.add_argument("--perk", metavar="TEXT",
                   help="参加福利，原样写进邀请；不给就不提任何福利，如「到场送试用装」")
    add_as_of(s)
    s.add_argument("--json", action="store_true", help="输出 JSON（邀请契约格式）")
    s.set_defaults(run=cmd_invite, writes="保存邀请草稿")


def cmd_suggest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.llm import make_polisher
    from bot.render_suggest import suggestions_text
    from handlers.personas import build_personas, circle_labels
    from handlers.suggest import suggest_for_member

    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    member = resolve_member(app, args.member)
    (view,) = build_personas(app.store, settings, app.labels, as_of, [member.pk])
    views = suggest_for_member(app.store, settings, app.labels, member, as_of, view=view,
                               polisher=make_polisher(settings))
    if member.opted_out:
        say(f"{visible(member.name)}（{visible(member.member_id)}）已选择退出：不生成话术",
            err=True)
    if args.json:
        print_json({"member_id": member.member_id,
                    "suggestions": [v.to_json(settings.tz) for v in views]})
        return 0
    # The header's name and id are the member's own; suggestions_text places them as given.
    shown = replace(view.persona, name=visible(view.persona.name),
                    member_id=visible(view.persona.member_id))
    say(suggestions_text(shown, views, settings.tz, as_of, member.opted_out,
                         circles=circle_labels(app.store, as_of)))
    return 0


def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    from bot.llm import make_polisher
    from bot.render_suggest import invites_text
    from handlers.invites import InviteDetails, draft_invites
    from handlers.suggest import SuggestError
    from persona.suggest import segment_label

    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    try:
        run = draft_invites(app.store, settings, app.labels, args.activity, args.segment, as_of,
                            polisher=make_polisher(settings),
                            details=InviteDetails(args.time, args.place, args.perk))
    except SuggestError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print_json(run.to_json(settings.tz))
    else:
        say(invites_text(run, segment_label(args.segment), settings.tz, as_of))
    return 0
