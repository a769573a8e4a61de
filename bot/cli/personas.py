"""`siyu personas` and `siyu persona MEMBER`: every member's summary, or one with evidence."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cliutil import (
    CliError,
    add_as_of,
    parse_as_of,
    print_json,
    read_app,
    resolve_member,
    say,
)

if TYPE_CHECKING:
    from datetime import datetime

    from handlers.personas import PersonaView
    from handlers.settings import Settings

ORDER = 15


def register(sub: Any) -> None:
    s = sub.add_parser("personas", help="列出所有成员的画像摘要（可只列一个分群）")
    add_as_of(s)
    s.add_argument("--segment", metavar="CODE",
                   help="只列这个分群的成员：high/growth/general、potential/new/mature/"
                        "declining、price/quality/service、core/ordinary 或兴趣圈 c1…")
    s.add_argument("--json", action="store_true", help="输出 JSON（画像契约格式）")
    s.set_defaults(run=cmd_personas)

    s = sub.add_parser("persona", help="查看一位成员的画像与证据")
    s.add_argument("member", metavar="MEMBER", help="成员 ID、微信 ID 或昵称")
    add_as_of(s)
    s.add_argument("--json", action="store_true", help="输出 JSON（画像契约格式）")
    s.set_defaults(run=cmd_persona)


def member_views(app: Any, settings: Settings, as_of: datetime,
                 segment: str | None) -> list[PersonaView]:
    """Every customer's persona, or one segment's (`--segment`, the codes `siyu segment`
    counts with): what `personas` lists and `export members` writes."""
    from handlers.personas import SegmentCodeError, build_personas, in_segment

    views = build_personas(app.store, settings, app.labels, as_of)
    if segment is None:
        return views
    try:
        return in_segment(views, segment)
    except SegmentCodeError as exc:
        raise CliError(f"--segment: {exc}") from exc


def cmd_personas(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render import personas_table
    from handlers.personas import circle_labels
    from persona.suggest import segment_label

    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    views = member_views(app, settings, as_of, args.segment)
    if args.json:
        doc = {"as_of": as_of.isoformat(timespec="seconds")}
        if args.segment is not None:
            doc["segment"] = args.segment
        print_json({**doc, "members": [v.persona.to_json(settings.tz) for v in views]})
    else:
        title = None
        if args.segment is not None:
            name = circle_labels(app.store, as_of).get(args.segment)
            title = f"分群「{segment_label(args.segment)}" + (f"（{name}）" if name else "") + "」"
        say(personas_table(views, settings.tz, as_of, title=title))
    return 0


def cmd_persona(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render import persona_detail
    from handlers.personas import build_personas, circle_labels

    app = read_app(settings)
    as_of = parse_as_of(args.as_of, settings.tz)
    member = resolve_member(app, args.member)
    (view,) = build_personas(app.store, settings, app.labels, as_of, [member.pk])
    if args.json:
        print_json(view.persona.to_json(settings.tz))
        return 0
    evidence_ids = {e for t in view.persona.tags for e in t.evidence[:2]}
    quotes = app.store.messages_by_id(evidence_ids, member.pk)
    say(persona_detail(view, quotes, settings.tz, as_of,
                       circles=circle_labels(app.store, as_of)))
    return 0
