"""The live hook's persona cache gives the personas `build_personas` gives, reading less.

The cache (handlers/live_personas.py) keeps active members' facts in memory and appends what
the live path stores; a write by another process (here another App on the same file) or an
erasure must be noticed, and the persona must stay identical throughout.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from random import Random

import pytest
from pg import fresh_database, require_postgres
from sqltrace import trace

from bot.app import App
from bot.sources.business import open_orders
from handlers.business import import_orders
from handlers.events import MessageEvent, MessageType
from handlers.ingest import Ingestor
from handlers.live import LiveTriggers
from handlers.live_personas import LivePersonas
from handlers.personas import build_personas
from handlers.segments import run_and_store
from storage.privacy import PrivacyStore
from tests.suggest_fixtures import NOW, Community, ago, price_mom, quality_mom, service_dad

LINES = ["这款面霜多少钱？", "快递怎么还没到，太慢了", "好的", "今天晨跑5公里打卡",
         "有没有优惠券？", "宝宝的辅食你们都怎么做？", "想买两盒，怎么下单？", "哈哈哈",
         "客服在吗？售后怎么处理？", "这款奶粉的成分安全吗？"]
SENDERS = ["wxid_price", "wxid_quality", "wxid_service", "wxid_a", "wxid_b"]


def _community(tmp_path: Path, url: str | None = None) -> Community:
    c = Community(tmp_path, url=url)
    price_mom(c)
    quality_mom(c)
    service_dad(c)
    c.say("wxid_a", "大家好", ago(days=30), "小A")
    c.say("wxid_b", "大家好", ago(days=3), "小B")
    c.commit()
    orders = tmp_path / "orders.csv"
    orders.write_text("member,order_id,ts,amount,category,coupon_used\n"
                      f"wxid_price,O1,{int(ago(days=15).timestamp())},59.9,辅食,1\n"
                      f"wxid_quality,O2,{int(ago(days=8).timestamp())},299,护肤,0\n",
                      encoding="utf-8")
    import_orders(c.store, open_orders(orders), c.settings, file="orders.csv")
    run_and_store(c.store, c.settings, c.labels, ago(days=2))
    return c


def _same(c: Community, live: LivePersonas, when: object, pks: list[int]) -> None:
    expected = build_personas(c.store, c.settings, c.labels, when, pks)  # type: ignore[arg-type]
    got = live.build(when, pks)  # type: ignore[arg-type]
    assert [v.member for v in got] == [v.member for v in expected]
    for g, e in zip(got, expected, strict=True):
        assert g.persona == e.persona, g.member.member_id


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The stream runs on a SQLite file and on PostgreSQL: the cache's version query and
    per-member reads are dialect-sensitive SQL."""
    if request.param == "sqlite":
        yield None
        return
    with fresh_database(require_postgres()) as pg:
        yield pg


def test_cached_personas_equal_build_personas_through_a_stream(tmp_path: Path,
                                                               url: str | None) -> None:
    c = _community(tmp_path, url)
    hook = LiveTriggers(c.store, c.settings, c.labels)
    live = hook.personas
    pks = [c.member(s).pk for s in SENDERS]
    rnd = Random(3)
    other = App(c.settings)  # a second bot process on the same database
    for i in range(40):
        when = ago(hours=20) + timedelta(minutes=20 * i)
        sender = rnd.choice(SENDERS)
        if i % 9 == 4:
            # Another process stores a message and an order this one never sees.
            ing = Ingestor(other.store, other.analyzer, c.settings, other.labels)
            ing.ingest([MessageEvent(id=f"other{i}", ts=when, chat="g@chatroom", sender=sender,
                                     type=MessageType.TEXT, text=rnd.choice(LINES),
                                     is_group=True, sender_name=sender, origin="other")])
            if i == 13:
                path = tmp_path / "late.csv"
                path.write_text("member,order_id,ts,amount,category,coupon_used\n"
                                f"{sender},O9,{int(when.timestamp())},88,辅食,0\n",
                                encoding="utf-8")
                import_orders(other.store, open_orders(path), c.settings, file="late.csv")
        else:
            mid = c.say(sender, rnd.choice(LINES), when)
            c.commit()
            hook.messages([mid], when)
        _same(c, live, when, pks)
    # Past as-of: what the cache holds after `as_of` is left out, as the database query does.
    _same(c, live, ago(days=12), pks)
    # Most builds came from memory; the other process's writes were each read once again.
    assert live.loads < 40


def test_erasure_and_the_bound_are_respected(tmp_path: Path) -> None:
    c = _community(tmp_path)
    live = LivePersonas(c.store, c.settings, c.labels, max_members=2)
    pks = [c.member(s).pk for s in SENDERS]
    _same(c, live, NOW, pks)
    assert len(live._cache) == 2  # only the most recently used stay
    (price,) = [m.pk for m in c.store.members() if m.member_id == "wxid_price"]
    live.build(NOW, [price])
    PrivacyStore(c.store.engine).forget_member(price)
    assert live.build(NOW, [price]) == []
    c.say("wxid_price", "我又回来了，这款面霜多少钱？", ago(hours=1), "朵朵妈")
    c.commit()
    _same(c, live, NOW, [c.member("wxid_price").pk])


def test_a_cached_trigger_reads_no_history(tmp_path: Path) -> None:
    c = _community(tmp_path)
    hook = LiveTriggers(c.store, c.settings, c.labels)
    first = c.say("wxid_price", "这款面霜多少钱？", ago(hours=3))
    c.commit()
    hook.messages([first], ago(hours=3))
    loads = hook.personas.loads
    statements = trace(c.store.engine)
    again = c.say("wxid_price", "太贵了，有没有优惠券？", ago(hours=2))
    c.commit()
    statements.clear()
    hook.messages([again], ago(hours=2))
    assert hook.personas.loads == loads
    history = [q for q in statements if "FROM message" in q and "count" not in q
               and "message.id IN" not in q and "LIMIT" not in q]
    assert history == [], history


def test_cached_records_share_one_signals_per_document(tmp_path: Path) -> None:
    """The same line said again, by anyone, gives records that carry one `Signals` between
    them; the personas stay those `build_personas` computes."""
    c = _community(tmp_path)
    hook = LiveTriggers(c.store, c.settings, c.labels)
    pks = [c.member(s).pk for s in SENDERS]
    hook.personas.build(NOW, pks)  # everyone loaded from history
    for i, sender in enumerate(SENDERS * 2):
        mid = c.say(sender, "这款面霜多少钱？", ago(hours=5 - i * 0.1))
        c.commit()
        hook.messages([mid], ago(hours=5 - i * 0.1))
    records = [r for pk in pks for r in hook.personas._cache[pk].records]
    noted = [r for r in records if r.ts >= ago(hours=5.01)]
    assert len(noted) == 2 * len(SENDERS)
    assert len({id(r.signals) for r in noted}) == 1 and noted[0].signals.intents
    _same(c, hook.personas, NOW, pks)
