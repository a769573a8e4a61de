"""Live delivery: duplicated and late events never count twice.

A live transport delivers at least once, not exactly once: Wechaty re-sends after a reconnect,
a gateway replays its buffer, and messages from a flaky phone arrive minutes after newer ones.
The bot must end up knowing exactly what an in-order, duplicate-free stream would have taught
it. These tests replay one generated community stream through the real `Bot` (dispatcher,
ingest, join handling, suggestion hook, tag refresh on shutdown) three ways:

- clean: in time order, each event once;
- duplicated: the same order, but most events delivered two or three times, the copies
  arriving right after or well after the original (same message id, as a platform re-send);
- duplicated and late: the above, each delivery held back by up to 20 hours (inside the
  suggestion hook's 24 h look-back), so neighbours arrive swapped;
- duplicated and shuffled: the above, then delivered in any order at all.

and compares what the bot built: the persona JSON of every member as of a fixed moment,
the stored derived tags, message counts, and what was sent (one consent notice per newcomer,
no notification twice). With realistic lateness the operator suggestions are the same too;
a fully shuffled stream only promises the personas, because a trigger weeks older than the
newest message is past the hook's `max_age_hours` by design. Deterministic: a seeded stream,
a fixed `as_of`, no clock in the comparison, and a transport that just iterates a list.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.runner import Bot
from bot.transports.base import Event, EventHandler, RecordingSends
from handlers.events import JoinEvent, MessageEvent, MessageType
from handlers.personas import build_personas

CONSENT = "欢迎！我们会分析群聊来更好地服务你，发送 /退出 可停止。"
# Scheduled jobs off (or far away): only the events decide what is stored.
CONFIG = f"""
[bot]
managers = ["王经理"]
operators = ["运营小美"]
consent_notice = "{CONSENT}"
segment_every_hours = 0
reactivation_every_hours = 0
weekly_report = ""
tag_refresh_seconds = 86400
"""
BOT_ID = "wxid_xiaohe_bot"
AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GROUPS = {"10001@chatroom": "宝妈福利群", "10002@chatroom": "数码交流群"}
MEMBERS = {
    "wxid_duoduo": "朵朵妈", "wxid_laozhou": "老周", "wxid_xiaozhang": "小张",
    "wxid_lili": "王丽", "wxid_chenchen": "陈晨", "wxid_amy": "Amy",
    "wxid_tiantian": "甜甜", "wxid_laoli": "李师傅",
}
LINES = [
    "我家宝宝8个月了，有没有优惠？", "这款奶粉太贵了", "快递还没到，太慢了", "不贵，挺划算的",
    "周末一起去吃火锅吧", "新买的耳机音质很好", "下个月想去云南旅行", "坐标杭州，我是90后",
    "怎么买？想要两盒", "收到了，很好用，推荐！", "有没有适合跑步的鞋", "家里的猫咪挑食",
    "这个质量怎么样？", "客服一直不回复，太失望了", "[微笑][微笑]", "😀👍🏻", "好的",
    "最近在研究基金定投", "孩子期末考试，还在刷题", "想买一台扫地机器人，有推荐吗",
]


def community_stream(seed: int = 2026, n: int = 90) -> list[Event]:
    """Joins, member messages, a couple of the bot's own echoes, in time order, each once."""
    rng = random.Random(seed)
    start = AS_OF - timedelta(days=45)
    events: list[Event] = []
    newcomers = ["wxid_lili", "wxid_chenchen", "wxid_amy"]
    for k, member in enumerate(newcomers):
        events.append(JoinEvent(
            id=f"join-{k}", ts=start + timedelta(days=3 + 9 * k), chat="10001@chatroom",
            chat_name=GROUPS["10001@chatroom"], member=member, member_name=MEMBERS[member],
            inviter="wxid_duoduo", inviter_name=MEMBERS["wxid_duoduo"], channel="invite"))
    joined = {e.member: e.ts for e in events if isinstance(e, JoinEvent)}
    for i in range(n):
        ts = start + timedelta(minutes=rng.randrange(45 * 24 * 60))
        sender = rng.choice([m for m in MEMBERS if joined.get(m, start) <= ts])
        private = rng.random() < 0.15
        chat = sender if private else rng.choice(list(GROUPS))
        events.append(MessageEvent(
            id=f"wx-{i:04d}", ts=ts, chat=chat, chat_name=MEMBERS[sender] if private
            else GROUPS[chat], is_group=not private, sender=sender,
            sender_name=MEMBERS[sender], type=MessageType.TEXT, text=rng.choice(LINES),
            origin="live"))
    for j in range(2):  # the bot's own echoes: never members, never counted
        events.append(MessageEvent(
            id=f"self-{j}", ts=start + timedelta(days=20 + j), chat="10001@chatroom",
            chat_name=GROUPS["10001@chatroom"], is_group=True, sender=BOT_ID,
            type=MessageType.TEXT, text="本周团购开始啦", is_self=True))
    return sorted(events, key=lambda e: (e.ts, e.id))


def with_duplicates(events: Sequence[Event], seed: int) -> list[Event]:
    """Most events twice or three times: a copy right after, or one arriving much later."""
    rng = random.Random(seed)
    out = list(events)
    for ev in events:
        for _ in range(rng.choice([0, 1, 1, 2])):
            at = out.index(ev) + 1
            out.insert(rng.choice([at, rng.randrange(at, len(out) + 1)]), ev)
    return out


def shuffled(events: Sequence[Event], seed: int) -> list[Event]:
    """Any order at all: weeks-old messages arriving after today's."""
    out = list(events)
    random.Random(seed).shuffle(out)
    return out


def delayed(events: Sequence[Event], seed: int, hours: int) -> list[Event]:
    """Realistic lateness: each delivery held back by up to `hours`, so neighbours swap."""
    rng = random.Random(seed)
    arrival = [(e.ts + timedelta(minutes=rng.randrange(hours * 60)), i, e)
               for i, e in enumerate(events)]
    return [e for _, _, e in sorted(arrival)]


@dataclass
class ReplayTransport(RecordingSends):
    """Delivers a fixed list of events, then ends; records what the bot sends."""

    events: Sequence[Event]
    name: str = "replay"
    self_id: str | None = BOT_ID
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def run(self, on_event: EventHandler) -> None:
        for event in self.events:
            await on_event(event)


    async def stop(self) -> None:
        return None


@dataclass
class Outcome:
    personas: list[dict[str, Any]]
    # member_id, name, first_seen, last_active: what lifecycle and reactivation read
    members: list[tuple[object, ...]]
    tags: list[tuple[object, ...]]
    messages: int
    sent: list[tuple[str, str, str]]
    suggestions: list[tuple[object, ...]]


def replay(tmp_path: Path, name: str, events: Sequence[Event]) -> Outcome:
    """Run the live bot over `events` and read back what it built, as of AS_OF."""
    run_dir = tmp_path / name
    run_dir.mkdir()
    cfg = run_dir / "siyu.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(str(cfg), db=f"sqlite:///{run_dir / 'bot.db'}")
    transport = ReplayTransport(events)
    bot = Bot(settings, transport)
    asyncio.run(bot.run())
    views = build_personas(bot.app.store, settings, bot.app.labels, AS_OF)
    con = sqlite3.connect(run_dir / "bot.db")
    try:
        tags = con.execute("""SELECT m.member_id, t.code, t.kind, t.score, t.evidence,
                                     t.expires_at, t.computed_at
                              FROM tag t JOIN member m ON m.id = t.member_pk
                              ORDER BY m.member_id, t.code""").fetchall()
        messages = con.execute("SELECT count(*) FROM message").fetchone()[0]
        members = con.execute("""SELECT member_id, name, first_seen, last_active, opted_out
                                 FROM member ORDER BY member_id""").fetchall()
        suggestions = con.execute("""SELECT m.member_id, s.scenario, s."trigger"
                                     FROM suggestion s JOIN member m ON m.id = s.member_pk
                                     ORDER BY 1, 2, 3""").fetchall()
    finally:
        con.close()
    personas = sorted((v.persona.to_json(settings.tz) for v in views),
                      key=lambda p: p["member_id"])
    return Outcome(personas, members, tags, messages, transport.sent, suggestions)


@pytest.fixture(scope="module")
def stream() -> list[Event]:
    return community_stream()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, stream: list[Event]) -> Outcome:
    return replay(tmp_path_factory.mktemp("delivery"), "clean", stream)


def test_the_stream_is_worth_replaying(stream: list[Event], clean: Outcome) -> None:
    """Guards the comparisons below against passing on an empty or trivial run."""
    members = [p for p in clean.personas if p["stats"]["messages"]]
    assert clean.messages == sum(1 for e in stream if not getattr(e, "is_self", False))
    assert len(members) == len(MEMBERS)
    assert sum(len(p["tags"]) for p in clean.personas) > 3 * len(MEMBERS)
    assert clean.suggestions, "the stream should trigger suggestions"
    dup = with_duplicates(stream, seed=1)
    assert len(dup) > 1.6 * len(stream)
    last = {e.id: i for i, e in enumerate(dup)}
    first = {e.id: i for i, e in reversed(list(enumerate(dup)))}
    assert any(last[k] - first[k] > 20 for k in first), "no copy arrives late"


_HEADER = re.compile(r"#\d+ (\S+) · ")


def scenario_of(sent: tuple[str, str, str]) -> tuple[str, str, str]:
    """(kind, recipient, scenario) of a notification; other messages as they are."""
    kind, to, text = sent
    m = _HEADER.match(text)
    return kind, to, m.group(1) if m else text


def _diff(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> str:
    for x, y in zip(a, b, strict=False):
        if x != y:
            return f"first difference at {x['member_id']}:\n{x}\n{y}"
    return f"{len(a)} vs {len(b)} members"


@pytest.mark.parametrize("seed", [1, 2])
def test_duplicates_in_order_change_nothing(tmp_path: Path, stream: list[Event],
                                            clean: Outcome, seed: int) -> None:
    got = replay(tmp_path, "dup", with_duplicates(stream, seed))
    assert got.personas == clean.personas, _diff(got.personas, clean.personas)
    assert got.members == clean.members
    assert got.tags == clean.tags
    assert got.messages == clean.messages
    assert got.suggestions == clean.suggestions
    # Same order, same triggers: every notification the clean run sent, and no second copy.
    assert got.sent == clean.sent


@pytest.mark.parametrize("seed", [1, 2])
def test_duplicates_delivered_hours_late_change_nothing(tmp_path: Path, stream: list[Event],
                                                        clean: Outcome, seed: int) -> None:
    events = delayed(with_duplicates(stream, seed), seed, hours=20)
    assert [e.id for e in events] != [e.id for e in with_duplicates(stream, seed)]
    got = replay(tmp_path, "delayed", events)
    assert got.personas == clean.personas, _diff(got.personas, clean.personas)
    assert got.members == clean.members
    assert got.tags == clean.tags
    assert got.messages == clean.messages
    assert got.suggestions == clean.suggestions
    # As many notifications of each kind to each person, none twice. Compared by scenario:
    # they are numbered in arrival order, and a newcomer's welcome script quotes whichever of
    # their messages arrived first (the welcome is made once per member, by design).
    assert Counter(map(scenario_of, got.sent)) == Counter(map(scenario_of, clean.sent))
    assert max(Counter(got.sent).values()) == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_duplicates_out_of_order_build_the_same_personas(tmp_path: Path, stream: list[Event],
                                                         clean: Outcome, seed: int) -> None:
    got = replay(tmp_path, "late", shuffled(with_duplicates(stream, seed), seed))
    assert got.personas == clean.personas, _diff(got.personas, clean.personas)
    assert got.members == clean.members
    assert got.tags == clean.tags
    assert got.messages == clean.messages
    # Whatever order they came in, nobody hears the same thing twice.
    consent = Counter(to for kind, to, text in got.sent if text == CONSENT)
    assert consent == Counter(to for kind, to, text in clean.sent if text == CONSENT)
    assert set(consent.values()) == {1}
    repeated = [s for s, n in Counter(got.sent).items() if n > 1]
    assert repeated == []
    assert all(kind != "group" for kind, _, _ in got.sent)
