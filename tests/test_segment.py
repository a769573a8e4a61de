"""Segmentation rules: value, lifecycle, motivation, layer, dynamic tags, the run as a whole."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import pytest
from segment_fixtures import (
    AS_OF,
    SETTINGS,
    ago,
    chatter,
    circle_community,
    event,
    member,
    msg,
    order,
    quote,
)

from persona.member_table import MemberInput
from persona.persona import MessageRecord, Persona, Tag
from persona.segment import run_segmentation
from persona.segment_params import SegmentError, SegmentParams
from persona.segment_result import SegmentResult
from persona.segment_rules import lifecycle_code
from persona.signals import Signals

P = SegmentParams()
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def run(members: list[MemberInput], params: SegmentParams = P, **kw) -> SegmentResult:
    return run_segmentation(members, AS_OF, params, **kw)


def seg(result: SegmentResult, member_id: str, dim: str) -> str | None:
    a = result.assignment(member_id)
    assert a is not None, member_id
    return a[dim]


def quiet(mid: str, **kw) -> MemberInput:
    """A member who said one thing 10 days ago and may have bought things."""
    return member(mid, [msg(f"{mid}-m", 10)], **kw)


# ---- value -----------------------------------------------------------------------------------


def test_high_needs_two_orders_and_a_top_spend() -> None:
    members = [
        quiet("a", orders=[order("a1", 5, 800), order("a2", 20, 700), order("a3", 40, 500)]),
        quiet("b", orders=[order("b1", 5, 3000)]),  # top spend but one order
        quiet("c", orders=[order("c1", 5, 50), order("c2", 9, 50)]),
        quiet("d", orders=[order("d1", 5, 70), order("d2", 9, 80)]),
        quiet("e", orders=[order("e1", 5, 100), order("e2", 9, 100)]),
        quiet("f"),
    ]
    r = run(members)
    # a: 2000 spent, 4 of 5 buyers spent no more → rank 0.8, the top tier
    assert seg(r, "a", "value") == "high"
    assert seg(r, "b", "value") == "growth"
    assert [seg(r, m, "value") for m in "cde"] == ["growth"] * 3
    assert seg(r, "f", "value") == "general"


def test_member_without_orders_is_never_high() -> None:
    chatty = member("chatty", chatter("chatty", 40, first=29, last=0.5))
    buyers = [quiet(f"b{i}", orders=[order(f"b{i}-1", 3, 10), order(f"b{i}-2", 4, 10)])
              for i in range(3)]
    r = run([chatty, *buyers])
    assert seg(r, "chatty", "value") == "growth"
    assert all(seg(r, f"b{i}", "value") == "high" for i in range(3))  # ties share the top


def test_high_needs_a_recent_order() -> None:
    def buyer(mid: str, days: float) -> MemberInput:
        return quiet(mid, orders=[order(f"{mid}1", days, 500), order(f"{mid}2", days + 1, 500)])

    small = quiet("small", orders=[order("s1", 3, 10)])
    r = run([buyer("fresh", 180), buyer("stale", 180 + 1 / 86400), small])
    assert seg(r, "fresh", "value") == "high"
    assert seg(r, "stale", "value") == "growth"


def test_no_orders_at_all_splits_by_engagement() -> None:
    members = [
        member("eight", chatter("eight", 8, first=29, last=1)),
        member("seven", chatter("seven", 7, first=29, last=1)),
        member("reader", events=[event(d, "video") for d in range(1, 6)]),
        member("skimmer", events=[event(d, "video") for d in range(1, 5)]),
        member("old", chatter("old", 20, first=90, last=40)),
    ]
    r = run(members)
    assert seg(r, "eight", "value") == "growth"
    assert seg(r, "seven", "value") == "general"
    assert seg(r, "reader", "value") == "growth"  # 5 content interactions in 30 days
    assert seg(r, "skimmer", "value") == "general"
    assert seg(r, "old", "value") == "general"  # busy once, nothing in the last 30 days
    assert r.counts()["value"]["high"] == 0


def test_orders_after_as_of_are_ignored() -> None:
    r = run([quiet("x", orders=[order("x1", -2, 900), order("x2", -1, 900)])])
    assert seg(r, "x", "value") == "general"


# ---- lifecycle -------------------------------------------------------------------------------


def test_new_days_boundary_is_inclusive() -> None:
    def first_seen(mid: str, age: timedelta) -> MemberInput:
        ts_days = age / DAY
        return member(mid, [msg(f"{mid}-1", ts_days), msg(f"{mid}-2", 1)])

    r = run([first_seen("edge", 14 * DAY), first_seen("past", 14 * DAY + SECOND)])
    assert seg(r, "edge", "lifecycle") == "new"
    assert seg(r, "past", "lifecycle") == "mature"


def test_declining_days_boundary() -> None:
    def last_seen(mid: str, age: timedelta) -> MemberInput:
        return member(mid, [msg(f"{mid}-1", 90), msg(f"{mid}-2", age / DAY)])

    r = run([last_seen("edge", 30 * DAY), last_seen("gone", 30 * DAY + SECOND)])
    assert seg(r, "edge", "lifecycle") == "mature"
    assert seg(r, "gone", "lifecycle") == "declining"


def test_params_move_the_lifecycle_boundaries() -> None:
    m = member("m", [msg("m1", 20), msg("m2", 12)])
    assert seg(run([m]), "m", "lifecycle") == "mature"
    assert seg(run([m], SegmentParams(new_days=20)), "m", "lifecycle") == "new"
    assert seg(run([m], SegmentParams(declining_days=10)), "m", "lifecycle") == "declining"


def test_lifecycle_is_the_chat_life_whatever_the_orders() -> None:
    # The member's life in the chats, as build_persona has always judged it and the sample
    # community's truth labels it: orders show in value and layer, not in the stage.
    buyer = member("buyer", [msg("b1", 90), msg("b2", 60)], orders=[order("o1", 5, 99)])
    silent_buyer = member("silent_buyer", orders=[order("o2", 3, 99)])
    lapsed = member("lapsed", [msg("l1", 40)], orders=[order("o3", 45, 99)])
    r = run([buyer, silent_buyer, lapsed])
    assert seg(r, "buyer", "lifecycle") == "declining"  # chat quiet for 60 days
    assert seg(r, "silent_buyer", "lifecycle") == "potential"  # bought, never spoke
    assert seg(r, "lapsed", "lifecycle") == "declining"
    assert seg(r, "silent_buyer", "value") == "growth"


def test_a_join_notice_alone_makes_a_new_member() -> None:
    def notice(mid: str, days: float) -> MessageRecord:
        return MessageRecord(mid, ago(days), "g1", "system", Signals(join={"channel": "qrcode"}))

    joined = member("joined", [notice("j1", 3)])
    long_ago = member("long_ago", [notice("g1", 40)])
    r = run([joined, long_ago])
    assert seg(r, "joined", "lifecycle") == "new"
    assert seg(r, "long_ago", "lifecycle") == "potential"


def test_potential_means_no_messages_and_no_orders() -> None:
    r = run([member("lurker"), member("reader", events=[event(2)])])
    assert seg(r, "lurker", "lifecycle") == "potential"
    assert seg(r, "reader", "lifecycle") == "potential"  # content views are not activity


def test_chat_only_lifecycle_agrees_with_the_persona() -> None:
    rng = random.Random(7)
    members, expected = [], {}
    for i in range(40):
        first, last = sorted((rng.uniform(0, 60), rng.uniform(0, 60)), reverse=True)
        mid = f"m{i}"
        members.append(member(mid, [msg(f"{mid}-1", first), msg(f"{mid}-2", last)]))
        expected[mid] = lifecycle_code(AS_OF - first * DAY, AS_OF - last * DAY, AS_OF,
                                       SETTINGS.segment_rules)
    r = run(members)
    assert {m: seg(r, m, "lifecycle") for m in expected} == expected


# ---- motivation ------------------------------------------------------------------------------


def test_one_price_mention_is_too_thin() -> None:
    once = member("once", [msg("o1", 1, motivations={"price": 1.0})])
    twice = member("twice", [msg("t1", 1, motivations={"price": 1.0}),
                             msg("t2", 2, motivations={"price": 1.0})])
    r = run([once, twice])
    assert seg(r, "once", "motivation") is None
    assert seg(r, "twice", "motivation") == "price"


def test_split_motivation_is_null() -> None:
    split = member("split", [msg("s1", 1, motivations={"price": 1.0}),
                             msg("s2", 1, motivations={"price": 1.0}),
                             msg("s3", 1, motivations={"quality": 1.0}),
                             msg("s4", 1, motivations={"quality": 1.0})])
    assert seg(run([split]), "split", "motivation") is None


def test_coupon_share_makes_price() -> None:
    def coupons(mid: str, used: int, total: int) -> MemberInput:
        return quiet(mid, orders=[order(f"{mid}{i}", 3 + i, 50, coupon=i < used)
                                  for i in range(total)])

    # one price remark plus one coupon in four orders: still too thin to call
    remark = member("remark", [msg("remark-m1", 1, motivations={"price": 1.0})],
                    orders=[order(f"r{i}", 3 + i, 50, coupon=i == 0) for i in range(4)])
    r = run([coupons("most", 3, 4), coupons("half", 2, 4), coupons("few", 1, 4),
             coupons("single", 1, 1), remark])
    assert seg(r, "remark", "motivation") is None
    assert seg(r, "most", "motivation") == "price"
    assert seg(r, "half", "motivation") == "price"  # share 0.5 is enough
    assert seg(r, "few", "motivation") is None
    assert seg(r, "single", "motivation") is None  # one order says too little


def _folded(mid: str, tags: list[Tag], orders) -> MemberInput:
    """A persona that already counted coupon orders in its price tag (evidence = order ids)."""
    stats = {"messages": 1, "first_seen": AS_OF - 10 * DAY, "last_active": AS_OF - 10 * DAY,
             "orders": len(orders), "monetary": 0.0}
    return MemberInput(Persona(mid, mid, tags, {}, {}, stats), tuple(orders))


def test_coupons_folded_into_the_price_tag_are_judged_by_share() -> None:
    price = Tag("price", "价格", "motivation", 0.63, ["o0", "o1"])
    low = _folded("low", [price], [order(f"o{i}", 3 + i, 50, coupon=i < 2) for i in range(10)])
    high = _folded("high", [price], [order(f"o{i}", 3 + i, 50, coupon=True) for i in range(2)])
    r = run([low, high])
    assert seg(r, "low", "motivation") is None  # two coupons in ten orders
    assert seg(r, "high", "motivation") == "price"


def test_coupons_already_in_the_price_tag_are_not_counted_twice() -> None:
    tags = [Tag("price", "价格", "motivation", 0.6, ["m1", "o1"]),
            Tag("quality", "品质", "motivation", 0.62, ["m2", "m3"])]
    m = _folded("m", tags, [order("o1", 3, 50, coupon=True), order("o2", 4, 50, coupon=True)])
    # Counted once, quality (0.62) leads price (0.6); counted twice, price would win.
    assert seg(run([m]), "m", "motivation") == "quality"


# ---- layer and dynamic tags ------------------------------------------------------------------


def test_layer_core_and_ordinary() -> None:
    active = member("active", chatter("active", 8, first=29, last=1))
    repeat = quiet("repeat", orders=[order("r1", 3, 10), order("r2", 8, 10)])
    gone = member("gone", [msg("g", 50)], orders=[order("g1", 40, 10), order("g2", 45, 10)])
    whale = quiet("whale", orders=[order("w1", 3, 5000), order("w2", 4, 5000)])
    casual = member("casual", chatter("casual", 7, first=29, last=1))
    r = run([active, repeat, gone, whale, casual])
    assert seg(r, "active", "layer") == "core"
    assert seg(r, "repeat", "layer") == "core"
    assert seg(r, "gone", "value") == "growth"
    assert seg(r, "gone", "layer") == "ordinary"  # repeat buyer, but declining
    assert seg(r, "whale", "layer") == "core"
    assert seg(r, "casual", "layer") == "ordinary"


def test_dynamic_tags_expire() -> None:
    m = member(
        "m",
        [msg("q", 5, intents=["question"]), msg("c", 40, intents=["complaint"])],
        orders=[order("o1", 29, 10, "母婴用品"), order("o2", 30, 10, "食品生鲜"),
                order("o3", 2, 10, None)],
    )
    r = run([m])
    tags = {d["code"]: d for d in r.assignment("m")["dynamic_tags"]}
    assert set(tags) == {"recently_asked", "bought:母婴用品"}
    assert tags["recently_asked"]["evidence"] == ["q"]
    asked_at = AS_OF - 5 * DAY
    assert datetime.fromisoformat(tags["recently_asked"]["expires_at"]) == asked_at + 30 * DAY
    assert datetime.fromisoformat(tags["bought:母婴用品"]["expires_at"]) == AS_OF + DAY
    assert tags["bought:母婴用品"]["evidence"] == ["o1"]
    assert tags["recently_asked"]["label"] == "近期提问"


# ---- the run ---------------------------------------------------------------------------------


def test_empty_and_tiny_communities() -> None:
    empty = run([])
    assert empty.to_json()["cards"] == [] and empty.circles == []
    three = [member("a", chatter("a", 3, interests={"travel": 1.0}, keywords=["机票"])),
             member("b", chatter("b", 3, interests={"travel": 1.0}, keywords=["机票"])),
             quiet("c", orders=[order("c1", 2, 30)])]
    r3 = run(three)
    assert sum(r3.counts()["value"].values()) == 3
    assert len(r3.circles) <= 1
    ten = [member(f"m{i}", chatter(f"m{i}", 2 + i, interests={"food": 1.0}),
                  orders=[order(f"o{i}", 3, 20 * i)] * (i % 3)) for i in range(10)]
    r10 = run(ten)
    counts = r10.counts()
    assert all(sum(c.values()) == 10 for c in counts.values())
    assert counts["value"]["high"] >= 1  # a small community still gets a top tier
    json.dumps(r10.to_json(), ensure_ascii=False)


def test_all_silent_members() -> None:
    r = run([member(f"s{i}") for i in range(6)])
    counts = r.counts()
    assert counts["lifecycle"]["potential"] == 6
    assert counts["value"]["general"] == 6
    assert r.circles == [] and r.patterns == []
    assert [(c.dimension, c.code) for c in r.cards] == [("value", "general"),
                                                        ("lifecycle", "potential")]


def test_same_input_gives_identical_json_whatever_the_order() -> None:
    members = circle_community()
    members[0] = member("buyer", chatter("buyer", 5, interests={"parenting": 1.0}),
                        orders=[order("o1", 2, 99, "母婴用品", True)],
                        quotes=[quote("q1", 2, "奶粉怎么卖？", "question")])
    a = run(members).to_json()
    shuffled = members[:]
    random.Random(3).shuffle(shuffled)
    b = run(shuffled).to_json()
    assert json.dumps(a, ensure_ascii=False, sort_keys=True) == json.dumps(
        b, ensure_ascii=False, sort_keys=True)


def test_json_contract_and_round_trip() -> None:
    r = run(circle_community())
    doc = json.loads(json.dumps(r.to_json(), ensure_ascii=False))
    assert {"as_of", "counts", "clusters", "cards", "patterns"} <= set(doc)
    assert set(doc["counts"]) == {"value", "lifecycle", "motivation", "layer"}
    assert set(doc["counts"]["value"]) == {"high", "growth", "general"}
    assert set(doc["counts"]["lifecycle"]) == {"potential", "new", "mature", "declining"}
    assert set(doc["counts"]["motivation"]) == {"price", "quality", "service", "none"}
    assert set(doc["counts"]["layer"]) == {"core", "ordinary"}
    for c in doc["clusters"]:
        assert set(c) >= {"code", "label", "size", "top_interests"}
    a = doc["assignments"]["parenting-00"]
    assert set(a) == {"value", "lifecycle", "motivation", "layer", "cluster", "dynamic_tags"}
    again = SegmentResult.from_json(doc).to_json()
    assert json.dumps(again, sort_keys=True) == json.dumps(doc, sort_keys=True)


def test_members_in_finds_segment_and_circle_codes() -> None:
    r = run(circle_community())
    code = r.cluster[0]
    assert code is not None
    assert r.members_in(code) == [m for m, c in zip(r.member_ids, r.cluster, strict=True)
                                  if c == code]
    assert len(r.members_in("mature")) == len(r.member_ids)
    assert r.members_in("nope") == []


def test_bad_input_is_refused_with_the_field() -> None:
    with pytest.raises(SegmentError, match="goal"):
        SegmentParams(goal="grow")
    with pytest.raises(SegmentError, match="k_min"):
        SegmentParams(k_min=5, k_max=3)
    with pytest.raises(SegmentError, match="as_of"):
        run_segmentation([], AS_OF.replace(tzinfo=None), P)
    with pytest.raises(SegmentError, match="twice"):
        run([member("a"), member("a")])
    with pytest.raises(SegmentError, match="assignments"):
        SegmentResult.from_json({"as_of": AS_OF.isoformat()})


def test_counts_are_the_members_per_code_with_unset_as_none() -> None:
    """counts() (one Counter pass per dimension) gives what comparing every member's code
    gave: every code listed, zeros included, None and "" counted under "none"."""
    from dataclasses import replace

    from persona.segment_params import LIFECYCLE_CODES, NONE_KEY

    r = run([member(f"m{i}", chatter(f"m{i}", 2 + i, interests={"food": 1.0}),
                    orders=[order(f"o{i}", 3, 20 * i)] * (i % 3)) for i in range(8)])
    motivation = [None, "", "price", NONE_KEY, None, "quality", "price", None]
    r = replace(r, motivation=motivation)

    def by_comparison(col: list[str | None], codes: tuple[str, ...]) -> dict[str, int]:
        return {c: sum(1 for x in col if (x or NONE_KEY) == c) for c in codes}

    counts = r.counts()
    assert counts["motivation"] == by_comparison(motivation, tuple(counts["motivation"]))
    assert counts["motivation"][NONE_KEY] == 5 and counts["motivation"]["service"] == 0
    assert counts["lifecycle"] == by_comparison(r.lifecycle, LIFECYCLE_CODES)
