"""The columnar segmentation inputs (storage/segment_inputs.py → persona/member_columns.py)
against the per-member path (a persona per member, as gather_inputs builds them), on a generated
community in a real SQLite file: same result document, as of the newest fact, later (decay
projected from the stored tags), earlier (stored tags unusable: personas rebuilt) and with stale
members."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import numpy as np
import pytest

from handlers.personas import refresh_stale_tags
from handlers.segments import gather_columns, gather_inputs, run_and_store, segment_params
from handlers.settings import Settings
from persona.member_columns import columns_from_inputs
from persona.persona import saturate
from persona.segment import run_segmentation
from persona.tabulate import project_score
from storage.batches import Batch, NewMessage
from storage.business import BusinessStore, NewContentEvent, NewOrder
from storage.db import open_database
from storage.repo import Store
from storage.segment_inputs import ColumnReader
from storage.segment_kept import intent_evidence
from storage.segments import SegmentStore

NOW = datetime(2026, 11, 20, 12, 0, 0, 250000, tzinfo=UTC)
LABELS = {"parenting": "母婴育儿", "fitness": "运动健身", "digital": "数码", "food": "美食",
          "price": "价格敏感", "quality": "品质追求", "service": "服务依赖", "question": "提问",
          "complaint": "抱怨投诉", "purchase_intent": "购买意向", "praise": "好评"}
TOPICS = {"parenting": ("辅食", "奶粉", "宝宝", "纸尿裤"), "fitness": ("跑步", "减脂", "蛋白粉"),
          "digital": ("手机", "耳机", "充电器"), "food": ("螺蛳粉", "零食", "大闸蟹")}
CHATS = {"g1": "宝妈群", "g2": "健身群", "g3": "数码群"}


def spy_sql(monkeypatch: pytest.MonkeyPatch, reader: ColumnReader) -> list[str]:
    """Every SQL text the reader runs from now on (to check which paths it took)."""
    sqls: list[str] = []
    original = reader._rows

    def spy(sql: str, params: dict[str, Any]) -> Any:
        sqls.append(sql)
        return original(sql, params)

    monkeypatch.setattr(reader, "_rows", spy)
    return sqls


def _community(store: Store, n: int = 80, seed: int = 3) -> None:
    """Members who chat (interests, intents, motivations, attributes, keywords, media), join
    by invite or QR code, buy (with coupons and categories) and read articles."""
    rng = Random(seed)
    batch = Batch(chats={cid: (name, True, "wechat") for cid, name in CHATS.items()})
    orders: list[tuple[str, NewOrder]] = []
    events: list[tuple[str, Any]] = []
    for i in range(n):
        sender = f"wxid_{i:03d}"
        batch.people[("wechat", sender)] = f"成员{i}"
        chat = rng.choice(list(CHATS))
        join_days = rng.uniform(0.5, 120)
        if rng.random() < 0.6:
            via = rng.choice(("invite", "qrcode"))
            batch.messages.append(NewMessage(
                f"{sender}-join", chat, "wechat", sender, NOW - timedelta(days=join_days),
                "system", "加入了群聊", {"j": {"channel": via, "inviter": "小禾助手"}}, "t"))
        topic = rng.choice(list(TOPICS))
        for k in range(rng.choice((0, 0, 1, 3, 6, 12, 25, 40))):
            days = rng.uniform(0, join_days)
            sig: dict[str, Any] = {"i": {topic: 1}}
            words = rng.sample(TOPICS[topic], rng.randint(1, len(TOPICS[topic])))
            sig["k"] = [*words, rng.choice(("上海", "同问", "价格", "质量", "发货"))]
            r = rng.random()
            if r < 0.25:
                sig["n"] = [rng.choice(("question", "complaint", "purchase_intent", "praise"))]
            if rng.random() < 0.3:
                sig["m"] = {rng.choice(("price", "quality", "service")): 1}
            if rng.random() < 0.1:
                sig["a"] = {"city": rng.choice(("上海", "杭州")), "life_stage": "parent"}
            mtype = "text"
            if rng.random() < 0.08:
                mtype, sig = "image", {"c": "image"}
            # some messages share a second, so keyword ties meet the stored order
            ts = NOW - timedelta(days=days) if k % 7 else NOW - timedelta(days=int(days))
            batch.messages.append(NewMessage(
                f"{sender}-m{k}", chat, "wechat", sender, ts, mtype, f"{'、'.join(words)}怎么样？",
                sig, "t"))
        if rng.random() < 0.4:
            for k in range(rng.randint(1, 4)):
                orders.append((sender, NewOrder(
                    f"O{i:03d}{k}", 0, NOW - timedelta(days=rng.uniform(0, 90)),
                    round(rng.uniform(20, 500), 2), rng.choice(("母婴", "数码", None)),
                    rng.random() < 0.5, "t")))
        if rng.random() < 0.3:
            from persona.commerce import ContentEventRecord

            for _ in range(rng.randint(1, 6)):
                events.append((sender, ContentEventRecord(
                    NOW - timedelta(days=rng.uniform(0, 40)), rng.choice(("article", "video")),
                    rng.choice(("view", "share")), float(rng.randint(3, 200)))))
    store.write_batch(batch)
    pk_of = {m.member_id: m.pk for m in store.members()}
    business = BusinessStore(store.engine)
    business.write_orders([NewOrder(o.order_id, pk_of[s], o.ts, o.amount, o.category,
                                    o.coupon_used, o.origin) for s, o in orders])
    business.write_events([NewContentEvent(pk_of[s], e, "t") for s, e in events])


@pytest.fixture(scope="module")
def community(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Settings, datetime]:
    path: Path = tmp_path_factory.mktemp("cols") / "c.db"
    settings = Settings(db=f"sqlite:///{path}")
    store = Store(open_database(settings.db))
    _community(store)
    refresh_stale_tags(store, settings, LABELS)
    newest = max(t for t in (store.latest_message_ts(),
                             BusinessStore(store.engine).latest_ts()) if t)
    return store, settings, newest


def _both(store: Store, settings: Settings, as_of: datetime) -> tuple[dict, dict]:
    params = segment_params(settings)
    _, inputs = gather_inputs(store, settings, LABELS, as_of)
    old = run_segmentation(inputs, as_of, params).to_json()
    _, cols = gather_columns(store, settings, LABELS, as_of)
    new = run_segmentation(cols, as_of, params, half_life_days=settings.half_life_days)
    return old, new.to_json()


@pytest.mark.parametrize("shift_days", [0.0, 12.5, -9.0])
def test_columns_give_the_per_member_result(community: tuple[Store, Settings, datetime],
                                            shift_days: float) -> None:
    """As of the newest fact (tags as stored), 12.5 days later (scores projected, intents
    expiring, members turning declining) and 9 days earlier (tags rebuilt)."""
    store, settings, newest = community
    old, new = _both(store, settings, newest + timedelta(days=shift_days))
    assert old["counts"]["value"]["growth"] > 0 and old["clusters"]
    assert new == old


def test_stale_members_are_rebuilt_not_read(community: tuple[Store, Settings, datetime]
                                            ) -> None:
    store, settings, newest = community
    reader = ColumnReader(store.engine)
    before = reader.read(newest)
    assert len(before.unusable) == 0
    # a new message marks its member stale: their stored tags no longer describe them
    store.write_batch(Batch(chats={"g1": ("宝妈群", True, "wechat")},
                            people={("wechat", "wxid_005"): "成员5"},
                            messages=[NewMessage("late-1", "g1", "wechat", "wxid_005", newest,
                                                 "text", "奶粉有没有优惠", {"i": {"parenting": 2},
                                                                     "m": {"price": 1}}, "t")]))
    after = reader.read(newest)
    pk = next(m.pk for m in store.members() if m.member_id == "wxid_005")
    assert after.pks[after.unusable].tolist() == [pk]
    old, new = _both(store, settings, newest)
    assert new == old
    refresh_stale_tags(store, settings, LABELS)


def test_no_member_object_for_the_population(community: tuple[Store, Settings, datetime]
                                             ) -> None:
    """Text parts are loaded for the card samples only, and the join channel is filled."""
    store, settings, newest = community
    _, cols = gather_columns(store, settings, LABELS, newest)
    asked: list[int] = []
    load = cols.details

    def spy(rows: Any) -> Any:
        asked.extend(rows)
        return load(rows)

    cols.details = spy
    params = segment_params(settings)
    small = type(params)(**{**params.to_json(), "card_sample": 5})
    result = run_segmentation(cols, newest, small)
    assert result.cards and len(asked) <= 5 * len(result.cards)
    joins = [j for c in result.cards for j in c.channels["join"]]
    assert any(j["name"] in ("邀请:小禾助手", "二维码:小禾助手") for j in joins)


def test_stored_run_matches_and_keeps_every_member(community: tuple[Store, Settings, datetime]
                                                   ) -> None:
    store, settings, newest = community
    outcome = run_and_store(store, settings, LABELS, newest)
    rows = SegmentStore(store.engine).member_segments(outcome.run_id)
    ids = {m.pk: m.member_id for m in store.members()}
    assert len(rows) == len(ids)
    for pk, seg in rows.items():
        got = outcome.result.assignment(ids[pk])
        assert got is not None
        assert {k: got[k] for k in seg} == seg


def test_projection_equals_decay_of_the_weights() -> None:
    """A score saturated from weight w, projected by Δt, is the score of w decayed by Δt."""
    half_life = 30.0
    weights = np.array([0.05, 0.4, 1.0, 3.0, 9.0])
    scores = np.array([saturate(w) for w in weights])
    for days in (0.0, 1.0, 15.0, 90.0):
        f = 0.5 ** (days / half_life)
        want = np.array([saturate(w * f) for w in weights])
        got = project_score(scores, np.full(len(weights), days * 86400.0), half_life)
        assert np.allclose(got, want, rtol=1e-12, atol=1e-15)
    assert project_score(np.array([1.0]), np.array([86400.0 * 5]), half_life)[0] == 1.0


def test_inputs_and_columns_agree_on_the_table(community: tuple[Store, Settings, datetime]
                                               ) -> None:
    """The two producers fill the same columns for the facts they share."""
    store, settings, newest = community
    _, inputs = gather_inputs(store, settings, LABELS, newest)
    a = columns_from_inputs(inputs)
    _, b = gather_columns(store, settings, LABELS, newest)
    assert a.ids == b.ids
    for f in ("messages", "recent_messages", "last_active"):
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), f
    assert np.array_equal(np.sort(a.order_ts), np.sort(b.order_ts))


def test_keywords_are_kept_between_runs_and_recounted_when_messages_change(
        community: tuple[Store, Settings, datetime], monkeypatch: pytest.MonkeyPatch) -> None:
    store, settings, newest = community
    reader = ColumnReader(store.engine)
    first = reader.read(newest)
    counted: list[int] = []
    original = reader._count_keywords

    def spy(pks: Any, at: str, top: int = 10) -> Any:
        counted.extend(pks)
        return original(pks, at, top)

    monkeypatch.setattr(reader, "_count_keywords", spy)
    again = reader.read(newest)
    assert counted == []  # every member's kept keywords still hold
    assert np.array_equal(again.columns.kw_member, first.columns.kw_member)
    assert [again.columns.vocab[j] for j in again.columns.kw_word] == [
        first.columns.vocab[j] for j in first.columns.kw_word]
    store.write_batch(Batch(chats={"g2": ("健身群", True, "wechat")},
                            people={("wechat", "wxid_007"): "成员7"},
                            messages=[NewMessage("late-7", "g2", "wechat", "wxid_007",
                                                 newest - timedelta(days=3), "text", "跑步",
                                                 {"k": ["跑步", "跑步鞋"]}, "t")]))
    reader.read(newest)
    pk = next(m.pk for m in store.members() if m.member_id == "wxid_007")
    assert counted == [pk]  # an older message arriving late still changes the count
    old, new = _both(store, settings, newest)
    assert new == old
    refresh_stale_tags(store, settings, LABELS)


def test_tag_rebuild_keeps_the_keywords_a_recount_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rebuild after an import fills member_keywords from the history it loaded, with
    the words and order SQL would count, so the first run counts nothing; a late message
    makes the row stale until the next rebuild refreshes it."""
    from storage.segment_kept import KEPT_KEYWORDS
    from storage.segment_rows import _db_time

    settings = Settings(db=f"sqlite:///{tmp_path / 'k.db'}")
    store = Store(open_database(settings.db))
    _community(store, n=50, seed=11)
    refresh_stale_tags(store, settings, LABELS)
    newest = store.latest_message_ts()
    assert newest is not None
    reader = ColumnReader(store.engine)
    pks = [m.pk for m in store.members()]
    recount = reader._count_keywords(pks, _db_time(newest), KEPT_KEYWORDS)
    kept = reader._kept_keywords(pks, _db_time(newest), KEPT_KEYWORDS)
    assert kept == {pk: recount[pk] for pk in kept} and len(recount) > 30
    assert set(recount) <= set(kept)
    counted: list[int] = []
    original = reader._count_keywords

    def spy(pks: Any, at: str, top: int = 10) -> Any:
        counted.extend(pks)
        return original(pks, at, top)

    monkeypatch.setattr(reader, "_count_keywords", spy)
    reader.read(newest)
    assert counted == []
    store.write_batch(Batch(chats={"g2": ("健身群", True, "wechat")},
                            people={("wechat", "wxid_007"): "成员7"},
                            messages=[NewMessage("late-7", "g2", "wechat", "wxid_007",
                                                 newest - timedelta(days=3), "text", "跑步",
                                                 {"k": ["跑步", "跑步鞋"]}, "t")]))
    pk = next(m.pk for m in store.members() if m.member_id == "wxid_007")
    reader.read(newest)
    assert counted == [pk]  # stale row recounted (and kept again) by the run
    counted.clear()
    store.write_batch(Batch(chats={"g2": ("健身群", True, "wechat")},
                            people={("wechat", "wxid_007"): "成员7"},
                            messages=[NewMessage("late-7b", "g2", "wechat", "wxid_007",
                                                 newest - timedelta(days=2), "text", "鞋",
                                                 {"k": ["跑步鞋"]}, "t")]))
    refresh_stale_tags(store, settings, LABELS)
    reader.read(newest)
    assert counted == []  # the rebuild refreshed the row
    assert reader._kept_keywords([pk], _db_time(newest), KEPT_KEYWORDS) == original(
        [pk], _db_time(newest), KEPT_KEYWORDS)


def _message_columns(read: Any) -> dict[str, np.ndarray]:
    c = read.columns
    return {f: getattr(c, f) for f in ("messages", "recent_messages", "first_seen",
                                       "last_active")}


@pytest.mark.parametrize("shift_days", [0.0, 12.5, 29.0])
def test_kept_activity_gives_what_the_message_pass_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shift_days: float) -> None:
    """The rebuild's activity rows stand in for the pass over every message: the same counts,
    first/last times and recent counts (at later as_of too, where "recent" shrinks), and no
    message query at all while every row holds."""
    settings = Settings(db=f"sqlite:///{tmp_path / 'a.db'}")
    store = Store(open_database(settings.db))
    _community(store, n=60, seed=5)
    refresh_stale_tags(store, settings, LABELS)
    newest = store.latest_message_ts()
    assert newest is not None
    as_of = newest + timedelta(days=shift_days)
    reader = ColumnReader(store.engine)
    sqls = spy_sql(monkeypatch, reader)
    kept = reader.read(as_of)
    assert not any("FROM message" in q for q in sqls)
    with store.engine.begin() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM member_activity").scalar()
        conn.exec_driver_sql("DELETE FROM member_activity")
    assert rows == len(kept.pks)
    sqls.clear()
    counted = reader.read(as_of)
    assert any("FROM message WHERE ts <= :at GROUP BY" in q for q in sqls)
    assert (kept.columns.recent_messages > 0).any() and (kept.columns.messages == 0).any()
    for f, arr in _message_columns(kept).items():
        assert np.array_equal(arr, _message_columns(counted)[f], equal_nan=True), f


def test_activity_rows_that_do_not_hold_are_counted_in_sql(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row from another rebuild than the tags (a crash between the two writes), a claimed
    member and a stale member are counted from the messages, through the index."""
    settings = Settings(db=f"sqlite:///{tmp_path / 'b.db'}")
    store = Store(open_database(settings.db))
    _community(store, n=60, seed=6)
    refresh_stale_tags(store, settings, LABELS)
    newest = store.latest_message_ts()
    assert newest is not None
    reader = ColumnReader(store.engine)
    want = _message_columns(reader.read(newest))
    by_id = {m.member_id: m.pk for m in store.members()}
    crashed, claimed = by_id["wxid_003"], by_id["wxid_004"]
    with store.engine.begin() as conn:
        # wrong numbers that a run must not trust
        conn.exec_driver_sql("UPDATE member_activity SET computed_us = computed_us - 1, "
                             "messages = messages + 7, recent = '' WHERE member_pk = ?",
                             (crashed,))
        conn.exec_driver_sql("UPDATE member_activity SET messages = messages + 7 "
                             "WHERE member_pk = ?", (claimed,))
        conn.exec_driver_sql("INSERT INTO tag_claim (member_pk) VALUES (?)", (claimed,))
    sqls = spy_sql(monkeypatch, reader)
    got = reader.read(newest)
    counted = [q for q in sqls if "FROM message WHERE" in q and "GROUP BY member_pk" in q]
    assert len(counted) == 1 and f"member_pk IN ({min(crashed, claimed)}, " in counted[0]
    for f, arr in want.items():
        assert np.array_equal(arr, _message_columns(got)[f], equal_nan=True), f
    old, new = _both(store, settings, newest)
    assert new == old
    with store.engine.begin() as conn:
        # as the rebuild that held the claim would leave it
        conn.exec_driver_sql("DELETE FROM tag_claim")
        conn.exec_driver_sql("UPDATE member_activity SET messages = messages - 7 "
                             "WHERE member_pk = ?", (claimed,))
    # a late message: the member is stale, its row (older than the message) is not used
    store.write_batch(Batch(chats={"g2": ("健身群", True, "wechat")},
                            people={("wechat", "wxid_009"): "成员9"},
                            messages=[NewMessage("late-9", "g2", "wechat", "wxid_009",
                                                 newest - timedelta(days=1), "text", "跑步",
                                                 {"k": ["跑步"]}, "t")]))
    after = reader.read(newest)
    row = int(np.flatnonzero(after.pks == by_id["wxid_009"])[0])
    assert after.columns.messages[row] == want["messages"][row] + 1
    old, new = _both(store, settings, newest)
    assert new == old


def _tag_columns(read: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Each member's tags as the reader hands them over, in a canonical order (the order of
    rows across members is the scan's, which segmentation does not depend on)."""
    c = read.columns
    out: dict[str, list[tuple[Any, ...]]] = {}
    for t in range(len(c.tag_member)):
        out.setdefault(c.ids[int(c.tag_member[t])], []).append((
            c.tag_keys[int(c.tag_key[t])], float(c.tag_score[t]), float(c.tag_age[t]),
            int(c.tag_chat_evidence[t]), int(c.tag_evidence_len[t]),
            repr(float(c.tag_expires[t])), c.tag_evidence.get(t, ())))
    return {m: sorted(rows) for m, rows in out.items()}


@pytest.mark.parametrize("shift_days", [0.0, 12.5, 40.0, -9.0])
def test_packed_tags_give_what_the_tag_table_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shift_days: float) -> None:
    """The rebuild's member_tags rows stand in for the scan of the tag table: the same tags,
    scores, evidence counts, intent evidence and expiry (intents expiring at later as_of),
    and no tag-table query at all while every row holds. Earlier than the tags (-9 days)
    no row holds, and the tag table is read as before."""
    settings = Settings(db=f"sqlite:///{tmp_path / 'p.db'}")
    store = Store(open_database(settings.db))
    _community(store, n=60, seed=7)
    refresh_stale_tags(store, settings, LABELS)
    newest = max(t for t in (store.latest_message_ts(),
                             BusinessStore(store.engine).latest_ts()) if t)
    as_of = newest + timedelta(days=shift_days)
    reader = ColumnReader(store.engine)
    sqls = spy_sql(monkeypatch, reader)
    packed = reader.read(as_of)
    assert any("FROM tag t" in q for q in sqls) == (shift_days < 0)
    with store.engine.begin() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM member_tags").scalar()
        intents = conn.exec_driver_sql(
            "SELECT count(*) FROM member_tags WHERE intents != ''").scalar()
        conn.exec_driver_sql("DELETE FROM member_tags")
    assert rows == len(packed.pks) and intents
    sqls.clear()
    scanned = reader.read(as_of)
    assert any("FROM tag t" in q for q in sqls)
    if shift_days < 0:  # tags computed after as_of: every persona is rebuilt
        assert len(packed.unusable) == len(packed.pks)
    else:
        assert (packed.columns.tag_chat_evidence > 0).any()
        assert bool(packed.columns.tag_evidence) == (shift_days < 30)  # intents expire
    assert _tag_columns(packed) == _tag_columns(scanned)
    assert np.array_equal(packed.unusable, scanned.unusable)
    assert np.array_equal(packed.columns.messages, scanned.columns.messages)


def test_packed_tags_that_do_not_hold_are_read_from_the_tag_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A claimed member's and a stale member's rows are not trusted (tampered here, so a
    trusted one would show), nor a row computed after as_of; those few members are read from
    the tag table through its member index; a tag write that keeps no packed row drops the
    old one; the run's result stays the per-member one."""
    settings = Settings(db=f"sqlite:///{tmp_path / 'q.db'}")
    store = Store(open_database(settings.db))
    _community(store, n=60, seed=8)
    refresh_stale_tags(store, settings, LABELS)
    newest = max(t for t in (store.latest_message_ts(),
                             BusinessStore(store.engine).latest_ts()) if t)
    reader = ColumnReader(store.engine)
    want = _tag_columns(reader.read(newest))
    by_id = {m.member_id: m.pk for m in store.members()}
    claimed, future = by_id["wxid_004"], by_id["wxid_005"]
    with store.engine.begin() as conn:
        # wrong tags that a run must not trust
        conn.exec_driver_sql("UPDATE member_tags SET keys = '', numbers = x'' "
                             "WHERE member_pk IN (?, ?)", (claimed, future))
        conn.exec_driver_sql("UPDATE member_tags SET computed_us = computed_us + 1 "
                             "WHERE member_pk = ?", (future,))
        conn.exec_driver_sql("INSERT INTO tag_claim (member_pk) VALUES (?)", (claimed,))
    sqls = spy_sql(monkeypatch, reader)
    got = reader.read(newest)
    scanned = [q for q in sqls if "FROM tag t" in q]
    assert len(scanned) == 1 and f"t.member_pk IN ({min(claimed, future)}, " in scanned[0]
    assert _tag_columns(got) == want
    old, new = _both(store, settings, newest)
    assert new == old
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM tag_claim")
    # a tag write without packed rows (another writer of derived tags) drops the old row
    store.replace_derived_tags({claimed: []}, computed_at=newest)
    with store.engine.begin() as conn:
        assert not conn.exec_driver_sql("SELECT count(*) FROM member_tags WHERE member_pk = ?",
                                        (claimed,)).scalar()
    got = reader.read(newest)
    assert int(np.flatnonzero(got.pks == claimed)[0]) in got.unusable.tolist()
    old, new = _both(store, settings, newest)
    assert new == old


@pytest.mark.parametrize("shift_days", [0.0, -20.0])
def test_card_details_from_sql_give_the_per_member_ones(
        community: tuple[Store, Settings, datetime], shift_days: float) -> None:
    """The cards' text parts read in SQL for a sample: the chats, quotes and join channel
    `member_detail` gives from each member's own messages."""
    from handlers.segments import MAX_KEYWORDS, MAX_QUOTES, QUOTE_INTENTS, member_detail
    from persona.signals import Signals

    store, _settings, newest = community
    as_of = newest + timedelta(days=shift_days)
    names = store.chat_names()
    pks = [m.pk for m in store.members()]
    got = ColumnReader(store.engine).details(pks, as_of, names, QUOTE_INTENTS, MAX_QUOTES,
                                             MAX_KEYWORDS)
    messages = store.messages_for(pks, until=as_of)
    quoted = 0
    for pk in pks:
        stored = list(messages.get(pk, ()))
        want = member_detail(stored, [Signals.from_json(m.signals) for m in stored], names)
        assert got[pk].quotes == want.quotes and got[pk].join_channel == want.join_channel
        assert got[pk].chats == want.chats
        quoted += bool(want.quotes)
    assert quoted


def test_erasure_drops_packed_tags_whose_evidence_it_rewrites(tmp_path: Path) -> None:
    """Forgetting a member scrubs their id out of other members' tag evidence; the packed
    copies of those members' tags (counted from the evidence as it was) go, everyone else's
    stay, and the run still equals the per-member one."""
    from storage.privacy import PrivacyStore

    settings = Settings(db=f"sqlite:///{tmp_path / 'e.db'}")
    store = Store(open_database(settings.db))
    _community(store, n=30, seed=9)
    refresh_stale_tags(store, settings, LABELS)
    newest = max(t for t in (store.latest_message_ts(),
                             BusinessStore(store.engine).latest_ts()) if t)
    by_id = {m.member_id: m.pk for m in store.members()}
    gone, cited = by_id["wxid_001"], by_id["wxid_002"]
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tag SET evidence = json_array('wxid_001-x') "
                             "WHERE member_pk = ? AND kind = 'lifecycle'", (cited,))
        before = conn.exec_driver_sql("SELECT count(*) FROM member_tags").scalar()
    PrivacyStore(store.engine).forget_member(gone)
    with store.engine.begin() as conn:
        left = {r[0] for r in conn.exec_driver_sql("SELECT member_pk FROM member_tags")}
    assert len(left) == before - 2 and gone not in left and cited not in left
    old, new = _both(store, settings, newest)
    assert new == old


def test_intent_evidence_in_one_decode_equals_the_per_row_decode() -> None:
    """The packed rows' intent evidence decoded in one json.loads over the joined texts gives
    the lists the per-row decode gives, in order (empty lists, unicode, quotes and
    backslashes included); texts that do not hold one list per intent tag give None, so the
    reader decodes those row by row."""
    rows = [[["m-1", "m-2"]], [[]], [["消息-3"], ["a\"b\\c", "\u2028"]], [[], ["x"], []]]
    texts = [json.dumps(r, ensure_ascii=False) for r in rows]
    tags = np.array([len(r) for r in rows], dtype=np.int64)
    assert intent_evidence(texts, tags) == [ev for t in texts for ev in json.loads(t)]
    assert intent_evidence(iter(texts), tags) == [ev for r in rows for ev in r]
    assert intent_evidence(texts, tags + 1) is None
    assert intent_evidence(texts[:2], tags) is None
    assert intent_evidence([], np.zeros(0, np.int64)) == []


def test_attribute_and_intent_tags_reach_the_table_as_tag_by_tag() -> None:
    """The table's attributes and dynamic tags, now taken per key with numpy, are what
    assigning tag by tag gave: a member's last tag of a field wins, a code without a value
    or of an unknown field is ignored, expired intents and praise make no dynamic tag,
    several dynamic tags of a member are sorted by code, members without tags get none."""
    from persona.member_columns import MemberColumns
    from persona.segment_params import SegmentParams
    from persona.tabulate import table_from_columns

    as_of = datetime(2026, 11, 20, 12, tzinfo=UTC)
    now = as_of.timestamp()
    keys = [("attribute", "city:上海", "上海"), ("attribute", "city:北京", "北京"),
            ("attribute", "gender:", "性别"), ("attribute", "blood:A", "A"),
            ("attribute", "age_range:25-34", "25-34岁"), ("intent", "question", "提问"),
            ("intent", "complaint", "投诉"), ("intent", "praise", "表扬")]
    #             member, key, expires (intents), evidence
    tags = [(0, 0, None, None), (0, 1, None, None), (0, 4, None, None), (1, 1, None, None),
            (1, 0, None, None), (1, 2, None, None), (1, 3, None, None),
            (0, 6, now + 86400, ("m-2", "消息")), (0, 5, now + 3600, ("m-1",)),
            (1, 5, now - 1, ("m-old",)), (1, 7, now + 86400, ("m-3",)),
            (2, 6, now + 7200, ())]
    n = 4
    cols = MemberColumns(
        ids=["a", "b", "c", "d"], messages=np.array([3, 2, 1, 0]),
        recent_messages=np.array([1, 1, 1, 0]), first_seen=np.full(n, now - 86400.0),
        last_active=np.full(n, now - 3600.0),
        tag_member=np.array([t[0] for t in tags]), tag_key=np.array([t[1] for t in tags]),
        tag_score=np.full(len(tags), 0.9), tag_age=np.zeros(len(tags)),
        tag_chat_evidence=np.zeros(len(tags), np.int64),
        tag_evidence_len=np.zeros(len(tags), np.int64),
        tag_expires=np.array([np.nan if t[2] is None else t[2] for t in tags]),
        tag_keys=keys, tag_evidence={j: t[3] for j, t in enumerate(tags) if t[3] is not None})
    table = table_from_columns(cols, as_of, SegmentParams())
    assert table.attributes["city"] == ["北京", "上海", None, None]
    assert table.attributes["age_range"] == ["25-34", None, None, None]
    assert table.attributes["gender"] == [None] * n
    dyn = [[(d.code, d.expires_at.timestamp(), d.evidence) for d in ds] for ds in table.dynamic]
    assert dyn == [[("recently_asked", now + 3600, ("m-1",)),
                    ("recently_complained", now + 86400, ("m-2", "消息"))],
                   [], [("recently_complained", now + 7200, ())], []]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_labels_come_from_each_codes_first_holder_as_the_row_sort_gave(seed: int) -> None:
    """A code's label is that of its key first met in the tags sorted by (member, rounded
    score high first, kind rank, code rank); found per key now, equal to the sort of every
    row: same codes under several labels and kinds, score ties at one member, NaN scores."""
    from persona.member_columns import MemberColumns
    from persona.persona import SCORE_FLOOR, TAG_KINDS, TIME_LABELS
    from persona.segment_params import CONTENT_KINDS, SegmentParams
    from persona.signals import MOTIVATION_CODES
    from persona.tabulate import table_from_columns

    rng = Random(seed)
    as_of = datetime(2026, 11, 20, 12, tzinfo=UTC)
    keys = [(kind, code, f"{code}-{kind}-{j}") for j in range(3)
            for kind in ("interest", "content", "motivation", "attribute")
            for code in ("travel", "article", "price", "city:上海", "food")]
    rng.shuffle(keys)
    n, rows = 12, 300
    member = np.sort(np.array([rng.randrange(n) for _ in range(rows)]))
    key = np.array([rng.randrange(len(keys)) for _ in range(rows)])
    score = np.array([rng.choice((0.5, 0.8, 0.8000001, 0.9, float("nan"))) for _ in range(rows)])
    cols = MemberColumns(
        ids=[f"m{i:02d}" for i in range(n)], messages=np.ones(n, np.int64),
        recent_messages=np.ones(n, np.int64), first_seen=np.full(n, as_of.timestamp() - 9e4),
        last_active=np.full(n, as_of.timestamp() - 3600.0), tag_member=member, tag_key=key,
        tag_score=score, tag_age=np.zeros(rows), tag_chat_evidence=np.zeros(rows, np.int64),
        tag_evidence_len=np.zeros(rows, np.int64), tag_expires=np.full(rows, np.nan),
        tag_keys=keys)
    table = table_from_columns(cols, as_of, SegmentParams())

    # the row sort, as it was written
    kind_rank = {k: i for i, k in enumerate(TAG_KINDS)}
    krank = np.array([kind_rank.get(k[0], 99) for k in keys])
    code_rank = np.argsort(np.argsort(np.array([k[1] for k in keys], dtype=object),
                                      kind="stable"), kind="stable")
    alive = np.where(np.array([k[0] != "attribute" for k in keys])[key],
                     score >= SCORE_FLOOR, True)
    live = np.flatnonzero(alive)
    order = np.lexsort((code_rank[key[live]], krank[key[live]], -np.round(score[live], 6),
                        member[live]))
    uniq, first_at = np.unique(key[live[order]], return_index=True)
    expected: dict[str, str] = dict(TIME_LABELS)
    for k in uniq[np.argsort(first_at)].tolist():
        kind, code, label = keys[k]
        if kind == "interest" or (kind == "content" and code in CONTENT_KINDS) or (
                kind == "motivation" and code in MOTIVATION_CODES):
            expected.setdefault(code, label)
        elif kind == "attribute":
            expected.setdefault(code, label)
            if code.partition(":")[2]:
                expected.setdefault(code.partition(":")[2], label)
    assert {c: table.labels[c] for c in expected} == expected


def test_taker_takes_the_picked_rows_of_a_chunk_column() -> None:
    """The packed-tags read takes a chunk's picked rows with one C call: every row (the
    column itself), one row, several."""
    from storage.segment_rows import _taker

    col = ("a", "", "c", "d")
    assert tuple(_taker([0, 1, 2, 3], 4)(col)) == col
    assert tuple(_taker([2], 4)(col)) == ("c",)
    assert tuple(_taker([0, 1, 3], 4)(col)) == ("a", "", "d")


def test_packed_intent_texts_with_extra_lists_are_decoded_row_by_row(tmp_path: Path) -> None:
    """A member_tags row whose intents text holds more lists than the row has intent tags
    (never one `tags_row` writes) takes the per-row decode, which reads one list per intent
    tag in order and ignores the rest: the read is the one of the rows as written."""
    settings = Settings(db=f"sqlite:///{tmp_path / 'p.db'}")
    store = Store(open_database(settings.db))
    _community(store, n=60, seed=7)
    refresh_stale_tags(store, settings, LABELS)
    as_of = store.latest_message_ts()
    assert as_of is not None
    reader = ColumnReader(store.engine)
    as_written = reader.read(as_of)
    assert as_written.columns.tag_evidence  # there is intent evidence to get right
    with store.engine.begin() as conn:
        changed = conn.exec_driver_sql(
            "UPDATE member_tags SET intents = substr(intents, 1, length(intents) - 1) "
            "|| ',[\"多余\"]]' WHERE intents != ''").rowcount
    assert changed
    again = reader.read(as_of)
    assert _tag_columns(again) == _tag_columns(as_written)
    assert again.columns.tag_evidence == as_written.columns.tag_evidence
