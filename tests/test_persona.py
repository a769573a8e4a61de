"""Persona aggregation: decay, evidence, time zones, frequency, lifecycle, JSON contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from persona.aggregate import build_persona, frequency_code
from persona.persona import MessageRecord, PersonaSettings, Tag, time_bucket
from persona.segment_rules import lifecycle_code
from persona.signals import Signals

SH = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 11, 20, 20, 0, tzinfo=SH)
SETTINGS = PersonaSettings(tz=SH)
LABELS = {"travel": "旅行", "parenting": "母婴育儿", "price": "价格", "complaint": "投诉",
          "question": "提问", "parent": "宝妈/宝爸"}


def rec(mid: str, days_ago: float, sig: Signals | None = None, type_: str = "text",
        hour: int | None = None) -> MessageRecord:
    ts = AS_OF - timedelta(days=days_ago)
    if hour is not None:
        ts = ts.replace(hour=hour, minute=0)
    return MessageRecord(mid, ts, "g1", type_, sig or Signals())


def tag(persona, code):
    return next((t for t in persona.tags if t.code == code), None)


def test_recent_behaviour_weighs_more_than_old() -> None:
    recent = build_persona("m", "n", [rec("a", 1, Signals(interests={"travel": 1}))], AS_OF,
                           SETTINGS, LABELS)
    old = build_persona("m", "n", [rec("a", 60, Signals(interests={"travel": 1}))], AS_OF,
                        SETTINGS, LABELS)
    assert tag(recent, "travel").score > 2 * tag(old, "travel").score


def test_half_life_is_configurable() -> None:
    records = [rec("a", 30, Signals(interests={"travel": 1}))]
    short = build_persona("m", "n", records, AS_OF, PersonaSettings(tz=SH, half_life_days=7),
                          LABELS)
    long = build_persona("m", "n", records, AS_OF, PersonaSettings(tz=SH, half_life_days=90),
                         LABELS)
    assert tag(short, "travel") is None  # faded below the floor
    assert tag(long, "travel").score > 0.3


def test_evidence_points_at_supporting_messages_newest_first() -> None:
    records = [rec("m1", 10, Signals(interests={"parenting": 1})),
               rec("m2", 5, Signals(interests={"travel": 1})),
               rec("m3", 1, Signals(interests={"parenting": 2}))]
    p = build_persona("m", "n", records, AS_OF, SETTINGS, LABELS)
    assert tag(p, "parenting").evidence == ["m3", "m1"]
    assert tag(p, "travel").evidence == ["m2"]
    assert tag(p, "parenting").label == "母婴育儿"


def test_tags_sorted_by_score() -> None:
    records = [rec(f"m{i}", i, Signals(interests={"parenting": 1})) for i in range(6)]
    records.append(rec("x", 3, Signals(interests={"travel": 1})))
    p = build_persona("m", "n", records, AS_OF, SETTINGS, LABELS)
    scores = [t.score for t in p.tags]
    assert scores == sorted(scores, reverse=True)


def test_messages_after_as_of_are_ignored() -> None:
    records = [rec("past", 3, Signals(interests={"travel": 1})),
               rec("future", -2, Signals(interests={"parenting": 1}))]
    p = build_persona("m", "n", records, AS_OF, SETTINGS, LABELS)
    assert tag(p, "parenting") is None
    assert p.stats["messages"] == 1


def test_time_of_day_uses_community_zone_not_utc() -> None:
    # 13:30 UTC is 21:30 in Shanghai: evening there, daytime in UTC.
    ts = datetime(2026, 11, 18, 13, 30, tzinfo=UTC)
    assert time_bucket(ts, SH) == "evening"
    assert time_bucket(ts, ZoneInfo("UTC")) == "daytime"
    assert time_bucket(datetime(2026, 11, 18, 1, 0, tzinfo=SH), SH) == "late_night"
    assert time_bucket(datetime(2026, 11, 18, 7, 0, tzinfo=SH), SH) == "morning"
    records = [MessageRecord(f"m{i}", datetime(2026, 11, 10 + i, 13, 30, tzinfo=UTC), "g", "text",
                             Signals()) for i in range(5)]
    p = build_persona("m", "n", records, AS_OF, SETTINGS, LABELS)
    assert tag(p, "evening") is not None and tag(p, "daytime") is None
    p_utc = build_persona("m", "n", records, AS_OF, PersonaSettings(tz=ZoneInfo("UTC")), LABELS)
    assert tag(p_utc, "daytime") is not None


def test_frequency_boundaries() -> None:
    assert frequency_code(0) == "silent"
    assert frequency_code(1) == "occasional"
    assert frequency_code(7) == "occasional"
    assert frequency_code(8) == "active"
    assert frequency_code(29) == "active"
    assert frequency_code(30) == "highly_active"


def test_lifecycle_boundaries() -> None:
    d = timedelta(days=1)
    rules = SETTINGS.segment_rules
    assert lifecycle_code(None, None, AS_OF, rules) == "potential"
    assert lifecycle_code(AS_OF - 14 * d, AS_OF - d, AS_OF, rules) == "new"
    assert lifecycle_code(AS_OF - 15 * d, AS_OF - d, AS_OF, rules) == "mature"
    assert lifecycle_code(AS_OF - 90 * d, AS_OF - 30 * d, AS_OF, rules) == "mature"
    assert lifecycle_code(AS_OF - 90 * d, AS_OF - 31 * d, AS_OF, rules) == "declining"


def test_intent_tags_expire() -> None:
    records = [rec("c1", 40, Signals(intents=["complaint"])),
               rec("q1", 2, Signals(intents=["question"]))]
    p = build_persona("m", "n", records, AS_OF, SETTINGS, LABELS)
    assert tag(p, "complaint") is None
    q = tag(p, "question")
    assert q is not None and q.expires_at == records[1].ts + timedelta(days=30)


def test_motivation_needs_more_than_one_passing_mention() -> None:
    once = build_persona("m", "n", [rec("a", 1, Signals(motivations={"price": 1}))], AS_OF,
                         SETTINGS, LABELS)
    assert once.segments["motivation"] is None
    twice = build_persona("m", "n", [rec("a", 1, Signals(motivations={"price": 1})),
                                     rec("b", 2, Signals(motivations={"price": 1}))],
                          AS_OF, SETTINGS, LABELS)
    assert twice.segments["motivation"] == "price"
    split = build_persona("m", "n", [rec("a", 1, Signals(motivations={"price": 1})),
                                     rec("b", 2, Signals(motivations={"price": 1})),
                                     rec("c", 1, Signals(motivations={"quality": 1})),
                                     rec("d", 2, Signals(motivations={"quality": 1}))],
                          AS_OF, SETTINGS, LABELS)
    assert split.segments["motivation"] is None


def test_attributes_vote_and_carry_evidence() -> None:
    records = [rec("a", 3, Signals(attributes={"city": "杭州", "life_stage": "parent"})),
               rec("b", 2, Signals(attributes={"city": "杭州"})),
               rec("c", 20, Signals(attributes={"city": "上海"}))]
    p = build_persona("m", "n", records, AS_OF, SETTINGS, LABELS)
    assert p.attributes["city"] == "杭州"
    assert p.attributes["life_stage"] == "parent"
    assert p.attributes["gender"] is None
    city = tag(p, "city:杭州")
    assert city.kind == "attribute" and city.evidence == ["b", "a"] and city.label == "杭州"
    assert tag(p, "life_stage:parent").label == "宝妈/宝爸"


def test_system_messages_do_not_count() -> None:
    p = build_persona("m", "n", [rec("s", 1, type_="system")], AS_OF, SETTINGS, LABELS)
    assert p.stats["messages"] == 0
    assert p.segments["lifecycle"] == "potential"
    assert tag(p, "silent") is not None


def test_manual_tags_kept_until_expiry() -> None:
    manual = [Tag("vip", "VIP", "manual", 1.0), Tag("old", "旧", "manual", 1.0,
                                                     expires_at=AS_OF - timedelta(days=1))]
    p = build_persona("m", "n", [], AS_OF, SETTINGS, LABELS, manual_tags=manual)
    assert tag(p, "vip") is not None and tag(p, "old") is None


def test_json_contract_shape() -> None:
    records = [rec(f"m{i}", i + 1, Signals(interests={"travel": 1}, motivations={"price": 1}))
               for i in range(10)]
    doc = build_persona("wxid_x", "小张", records, AS_OF, SETTINGS, LABELS).to_json(SH)
    assert set(doc) == {"member_id", "name", "tags", "attributes", "segments", "stats"}
    assert set(doc["attributes"]) == {"city", "age_range", "gender", "occupation", "life_stage"}
    assert set(doc["segments"]) == {"value", "lifecycle", "motivation", "cluster", "layer"}
    # The contract's stats keys, plus aov (average order value), which the contract allows.
    assert set(doc["stats"]) == {"messages", "first_seen", "last_active", "orders", "monetary",
                                 "aov"}
    kinds = {"interest", "frequency", "time", "content", "intent", "motivation", "attribute",
             "lifecycle", "value", "manual"}
    for t in doc["tags"]:
        assert set(t) == {"code", "label", "kind", "score", "evidence", "expires_at"}
        assert t["kind"] in kinds and 0 <= t["score"] <= 1
    assert doc["stats"]["last_active"].endswith("+08:00")
    assert doc["segments"]["value"] in {"high", "growth", "general"}
    assert doc["segments"]["lifecycle"] in {"potential", "new", "mature", "declining"}


def test_join_starts_new_stage_and_names_the_channel() -> None:
    join = Signals(join={"channel": "qrcode", "inviter": "小禾助手"})
    p = build_persona("m", "n", [rec("j1", 3, join, type_="system")], AS_OF, SETTINGS, LABELS)
    assert p.segments["lifecycle"] == "new"
    assert p.stats["messages"] == 0 and p.stats["first_seen"] == AS_OF - timedelta(days=3)
    t = tag(p, "join:qrcode")
    assert t.label == "扫码入群（小禾助手）" and t.evidence == ["j1"]
    old = build_persona("m", "n", [rec("j1", 20, join, type_="system")], AS_OF, SETTINGS,
                        LABELS)
    assert old.segments["lifecycle"] == "potential"  # joined long ago, never spoke
