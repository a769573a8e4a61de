"""Persona cards: real quotes, deterministic names, goal order and focus, modes, needs, scene."""

from __future__ import annotations

from dataclasses import replace

import pytest
from segment_fixtures import AS_OF, chatter, circle_community, member, msg, order, quote

from persona.card_names import SURNAMES, representative_name
from persona.cards import GOAL_FOCUS
from persona.member_table import MemberInput
from persona.segment import run_segmentation
from persona.segment_params import SegmentParams
from persona.segment_result import PersonaCard, SegmentResult

P = SegmentParams()


def community() -> list[MemberInput]:
    """Buyers, newcomers, a lapsed member, a lurker and three interest circles."""
    parent = {"life_stage": "parent", "city": "杭州"}
    members = circle_community()
    members += [
        member("hi-1", chatter("hi-1", 6, attributes=parent, motivations={"price": 1.0}),
               orders=[order("h1a", 3, 300, "母婴用品", True), order("h1b", 10, 200, "母婴用品",
                                                                   True)],
               keywords=("纸尿裤", "上次", "优惠券"), chats=("宝妈群",), join="邀请:小禾助手",
               quotes=[quote("hq1", 2, "上次买的纸尿裤漏了，怎么退换？", "complaint"),
                       quote("hq2", 6, "有纸尿裤的优惠券吗？", "question")]),
        member("hi-2", chatter("hi-2", 6, attributes=parent, motivations={"price": 1.0}),
               orders=[order("h2a", 4, 260, "母婴用品", True), order("h2b", 12, 240, "食品生鲜")],
               keywords=("纸尿裤", "奶粉"), chats=("宝妈群",), join="二维码:小禾助手",
               quotes=[quote("hq3", 1, "纸尿裤又漏了，客服也不回", "complaint"),
                       quote("hq4", 5, "奶粉什么时候到货？", "question")]),
        member("new-1", [msg("n1", 3, 21), msg("n2", 2, 21)], keywords=("湿疹",),
               quotes=[quote("nq1", 2, "宝宝湿疹怎么护理？", "question")], join="二维码:小禾助手"),
        member("new-2", [msg("n3", 4, 22), msg("n4", 1, 22)], keywords=("湿疹",),
               quotes=[quote("nq2", 1, "宝宝湿疹怎么护理？", "question")], join="二维码:小禾助手"),
        member("old-1", [msg("o1", 80), msg("o2", 45)], orders=[order("oo1", 50, 99, "食品生鲜")],
               quotes=[quote("oq1", 45, "物流太慢了", "complaint")]),
        member("lurker"),
    ]
    return members


@pytest.fixture(scope="module")
def result() -> SegmentResult:
    return run_segmentation(community(), AS_OF, P)


def card(r: SegmentResult, dim: str, code: str) -> PersonaCard:
    return next(c for c in r.cards if (c.dimension, c.code) == (dim, code))


def test_cards_quote_real_messages_of_their_members(result: SegmentResult) -> None:
    by_member = {m.persona.member_id: {q.id: q.text for q in m.quotes} for m in community()}
    for c in result.cards:
        members = set(result.members_in(c.code))
        assert c.size == len(members)
        for q in c.quotes:
            assert q["member_id"] in members
            assert by_member[q["member_id"]][q["id"]] == q["text"]
    high = card(result, "value", "high")
    assert 2 <= len(high.quotes) <= 3
    assert {q["member_id"] for q in high.quotes[:2]} == {"hi-1", "hi-2"}  # distinct first


def test_quotes_come_from_different_members_first() -> None:
    chatty = [quote(f"c{i}", i + 1, f"第{i}个问题：辅食怎么做？", "question") for i in range(4)]
    members = [
        member("chatty", [msg("a1", 3), msg("a2", 2)], quotes=chatty, keywords=("辅食",)),
        member("shy", [msg("b1", 3), msg("b2", 2)], keywords=("辅食",),
               quotes=[quote("s1", 9, "辅食过敏了怎么办？", "question")]),
    ]
    r = run_segmentation(members, AS_OF, P)
    new = card(r, "lifecycle", "new")
    assert [q["id"] for q in new.quotes] == ["c0", "s1", "c1"]


def test_copied_quotes_are_shown_once(result: SegmentResult) -> None:
    new = card(result, "lifecycle", "new")
    texts = [q["text"] for q in new.quotes]
    assert texts.count("宝宝湿疹怎么护理？") == 1


def test_needs_and_pain_points_come_from_the_quotes(result: SegmentResult) -> None:
    high = card(result, "value", "high")
    pains = {p["word"]: p for p in high.pain_points}
    needs = {n["word"]: n for n in high.needs}
    # phrases as members write them, counted once per member, not keywords
    top = high.pain_points[0]
    assert top["word"] == "纸尿裤漏了" and top["members"] == 2 and top["category"] == "quality"
    assert pains["客服不回"]["category"] == "service"
    assert needs["有没有纸尿裤的优惠券"]["category"] == "price"
    assert needs["奶粉什么时候到货"]["category"] == "delivery"
    assert "上次" not in pains and "纸尿裤" not in pains  # no fragment is a pain
    # each with the quote it came from, and the card's quotes show it
    by_id = {q.id: q.text for m in community() for q in m.quotes}
    assert all(by_id[p["quote"]["id"]] == p["quote"]["text"] for p in high.pain_points)
    assert top["quote"]["chat"] == "宝妈群" and top["quote"]["member_id"] in {"hi-1", "hi-2"}
    # the card's quotes are those behind its needs and pain points
    behind = {p["quote"]["id"] for p in high.pain_points + high.needs}
    assert {q["id"] for q in high.quotes} <= behind


def test_names_are_deterministic_and_distinct(result: SegmentResult) -> None:
    again = run_segmentation(community(), AS_OF, P)
    assert [c.name for c in again.cards] == [c.name for c in result.cards]
    names = [c.persona_name for c in result.cards]
    assert len(set(names)) == len(names)
    assert all(n[0] in SURNAMES and 2 <= len(n) <= 3 for n in names)
    assert representative_name("value", "high") == representative_name("value", "high")
    assert representative_name("value", "high", "male") != representative_name(
        "value", "high", "female")
    winback = run_segmentation(community(), AS_OF, replace(P, goal="winback"))
    assert {(c.code, c.name) for c in winback.cards} == {(c.code, c.name) for c in result.cards}


def test_role_reflects_segment_motivation_and_life_stage(result: SegmentResult) -> None:
    price = card(result, "motivation", "price")
    assert price.role == "精打细算的宝妈"
    assert price.name == f"精打细算的宝妈 · {price.persona_name}"
    assert card(result, "lifecycle", "declining").role.startswith("渐渐沉默的")


def test_profile_scene_and_channels(result: SegmentResult) -> None:
    high = card(result, "value", "high")
    assert high.profile["city"] == {"code": "杭州", "label": "杭州", "share": 1.0, "known": 2}
    assert high.profile["life_stage"]["code"] == "parent"
    assert high.profile["age_range"] is None
    assert high.scene["aov"] == 250.0  # 1000 yuan over 4 orders
    assert high.scene["categories"][0] == {"category": "母婴用品", "buyers": 2}
    assert high.scene["active_time"] == "evening"
    assert "宝妈群" in high.scene["text"] and "250" in high.scene["text"]
    assert {j["name"] for j in high.channels["join"]} == {"邀请:小禾助手", "二维码:小禾助手"}
    assert high.motivation == {"code": "price", "label": "价格敏感型", "share": 1.0,
                               "counts": {"price": 2, "quality": 0, "service": 0}}


def test_empty_segments_get_no_card(result: SegmentResult) -> None:
    keys = {(c.dimension, c.code) for c in result.cards}
    counts = result.counts()
    for dim in ("value", "lifecycle"):
        for code, n in counts[dim].items():
            assert ((dim, code) in keys) == (n > 0)
    assert ("motivation", "quality") not in keys
    assert {("cluster", c.code) for c in result.circles} <= keys


@pytest.mark.parametrize(("goal", "lead"), [
    ("activate", [("lifecycle", "new"), ("lifecycle", "potential")]),
    ("repurchase", [("value", "high"), ("value", "growth"), ("lifecycle", "mature")]),
    ("winback", [("lifecycle", "declining")]),
])
def test_goal_decides_which_cards_lead(goal: str, lead: list[tuple[str, str]]) -> None:
    r = run_segmentation(community(), AS_OF, replace(P, goal=goal))
    keys = [(c.dimension, c.code) for c in r.cards]
    assert keys[: len(lead)] == lead
    assert [c.lead for c in r.cards] == [k in lead for k in keys]
    assert all([f["code"] for f in c.focus] == list(GOAL_FOCUS[goal]) for c in r.cards)


def test_focus_values(result: SegmentResult) -> None:
    focus = {f["code"]: f["value"] for f in card(result, "value", "high").focus}
    assert focus["repeat_rate"] == 1.0
    assert focus["aov"] == 250.0
    assert focus["coupon_share"] == 0.75
    assert focus["top_category"] == "母婴用品"
    winback = run_segmentation(community(), AS_OF, replace(P, goal="winback"))
    declining = {f["code"]: f["value"] for f in card(winback, "lifecycle", "declining").focus}
    assert declining["days_since_active"] == 45.0
    activate = run_segmentation(community(), AS_OF, replace(P, goal="activate"))
    new = {f["code"]: f["value"] for f in card(activate, "lifecycle", "new").focus}
    assert new["join_channel"] == "二维码:小禾助手"
    assert new["asked_recently"] == 0  # their questions are quotes, not intent-tagged messages
    potential = {f["code"]: f["value"] for f in card(activate, "lifecycle", "potential").focus}
    assert potential["silent_share"] == 1.0


def test_card_json_round_trip(result: SegmentResult) -> None:
    for c in result.cards:
        assert PersonaCard.from_json(c.to_json()) == c
    doc = result.cards[0].to_json()
    assert doc["segment"] == {"dimension": "value", "code": "high", "label": "高价值"}
    assert {"name", "quotes", "needs", "pain_points", "goals", "channels", "scene", "focus",
            "profile"} <= set(doc)


def test_one_member_is_nobody_s_typical_and_a_few_are_nobody_s_motivation() -> None:
    # Seven newcomers; one says she is a teacher and a mother, one is price-sensitive. On
    # main the card read 「刚入群的宝妈」, 典型画像 有娃家庭 · 教师, and
    # 「花更少的钱买到划算的好东西；价格敏感型」 for all seven.
    one = {"life_stage": "parent", "occupation": "teacher"}
    members = [member("new-0", chatter("new-0", 3, first=5, attributes=one,
                                       motivations={"price": 1.0}))]
    members += [member(f"new-{i}", chatter(f"new-{i}", 3, first=5)) for i in range(1, 7)]
    r = run_segmentation(members, AS_OF, P)
    new = card(r, "lifecycle", "new")
    assert new.size == 7
    assert new.profile["occupation"] is None and new.profile["life_stage"] is None
    assert new.motivation is None
    assert not any("划算" in g for g in new.goals)
    assert new.role == "刚入群的群友"
    # two of them are: the mode and the motivation stand
    members[1] = member("new-1", chatter("new-1", 3, first=5, attributes=one,
                                         motivations={"price": 1.0}))
    new = card(run_segmentation(members, AS_OF, P), "lifecycle", "new")
    assert new.profile["life_stage"]["code"] == "parent"
    assert new.motivation is None  # two of seven is below the 0.3 floor
    members[2] = member("new-2", chatter("new-2", 3, first=5, motivations={"price": 1.0}))
    new = card(run_segmentation(members, AS_OF, P), "lifecycle", "new")
    assert new.motivation and new.motivation["code"] == "price"
    assert new.goals[0] == "花更少的钱买到划算的好东西"
    assert new.role == "刚入群的宝妈"
