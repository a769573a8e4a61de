"""Patterns: association rules with support/count/lift floors, contrasts, feature importance."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from segment_fixtures import AS_OF, chatter, event, member, order

from persona.member_table import MemberInput
from persona.segment import run_segmentation
from persona.segment_params import SegmentParams

P = SegmentParams()


def rules(members: list[MemberInput], params: SegmentParams = P) -> list[dict[str, Any]]:
    r = run_segmentation(members, AS_OF, params)
    return [p for p in r.patterns if p["kind"] == "association"]


def rule(found: list[dict[str, Any]], ante: str, cat: str) -> dict[str, Any] | None:
    return next((p for p in found if p["antecedent"]["code"] == ante
                 and p["consequent"]["code"] == cat), None)


def shop() -> list[MemberInput]:
    """10 members: 4 parents buying 母婴用品, 2 runners buying 运动健身, everyone buys food."""
    out = []
    for i in range(4):
        out.append(member(f"p{i}", chatter(f"p{i}", 3, interests={"parenting": 1.0}),
                          orders=[order(f"p{i}a", 3, 100, "母婴用品"),
                                  order(f"p{i}b", 4, 50, "食品生鲜")]))
    for i in range(2):
        out.append(member(f"r{i}", chatter(f"r{i}", 3, interests={"fitness": 1.0}),
                          orders=[order(f"r{i}a", 3, 300, "运动健身"),
                                  order(f"r{i}b", 4, 50, "食品生鲜")]))
    for i in range(4):
        out.append(member(f"x{i}", chatter(f"x{i}", 3, interests={"food": 1.0}),
                          orders=[order(f"x{i}a", 3, 50, "食品生鲜")]))
    return out


def test_rule_with_enough_members_and_lift_is_reported() -> None:
    found = rules(shop())
    r = rule(found, "parenting", "母婴用品")
    assert r is not None
    assert (r["count"], r["antecedent_count"], r["consequent_count"]) == (4, 4, 4)
    assert r["support"] == 0.4 and r["confidence"] == 1.0 and r["lift"] == 2.5
    assert r["antecedent"]["label"] == "母婴育儿"
    assert "母婴育儿" in r["description"] and "母婴用品" in r["description"]
    assert "2.5 倍" in r["description"]


def test_a_rule_of_two_members_is_noise() -> None:
    found = rules(shop())
    # Both runners bought 运动健身 (lift 5), but two people are a coincidence.
    assert rule(found, "fitness", "运动健身") is None
    lenient = rules(shop(), replace(P, min_count=2))
    assert rule(lenient, "fitness", "运动健身") is not None


def test_min_support_and_lift_floors() -> None:
    assert rule(rules(shop(), replace(P, min_support=0.41)), "parenting", "母婴用品") is None
    assert rule(rules(shop(), replace(P, min_support=0.4)), "parenting", "母婴用品") is not None
    # Everyone buys food: knowing an interest does not raise the odds (lift 1), so no rule.
    assert all(p["consequent"]["code"] != "食品生鲜" for p in rules(shop()))
    assert all(p["lift"] > 1 and p["count"] >= 3 and p["support"] >= 0.05 for p in rules(shop()))


def test_content_and_category_antecedents() -> None:
    members = shop()
    for i in range(4):  # the parents also watch live streams
        m = members[i]
        members[i] = replace(m, events=(event(2, "live"), event(3, "live")))
    found = rules(members)
    live = rule(found, "live", "母婴用品")
    assert live is not None and live["antecedent"]["kind"] == "content"
    assert "直播" in live["description"]


def evening_vs_morning(evening_buyers: int, morning_buyers: int = 3) -> list[dict[str, Any]]:
    members = []
    for i in range(evening_buyers):
        members.append(member(f"e{i}", chatter(f"e{i}", 4, hour=20),
                              orders=[order(f"e{i}a", 3, 300), order(f"e{i}b", 5, 300)]))
    for i in range(morning_buyers):
        members.append(member(f"m{i}", chatter(f"m{i}", 4, hour=9),
                              orders=[order(f"m{i}a", 3, 100), order(f"m{i}b", 5, 100)]))
    members.append(member("lurker"))
    r = run_segmentation(members, AS_OF, P)
    return [p for p in r.patterns if p["kind"] == "contrast"]


def test_evening_buyers_spend_more_contrast() -> None:
    found = evening_vs_morning(3)
    evening = next(p for p in found if p["group"]["code"] == "evening" and p["metric"] == "aov")
    assert (evening["group_mean"], evening["rest_mean"]) == (300.0, 100.0)
    assert (evening["group_buyers"], evening["rest_buyers"]) == (3, 3)
    assert evening["ratio"] == 3.0
    assert "晚间活跃" in evening["description"] and "300.0" in evening["description"]
    # equal order counts on both sides: no orders-per-buyer contrast to report
    assert not any(p["metric"] == "orders" for p in found)


def test_contrast_needs_three_buyers_a_side() -> None:
    assert evening_vs_morning(2) == []
    # plenty of buyers overall, but only two evening ones: no evening (or morning) contrast
    assert evening_vs_morning(2, morning_buyers=6) == []
    assert evening_vs_morning(3, morning_buyers=6) != []


def test_feature_importance_names_what_separates_value_tiers() -> None:
    members = shop()
    for i in range(4):  # two more orders each make the parents high value
        m = members[i]
        members[i] = replace(m, orders=(*m.orders, order(f"p{i}c", 5, 400, "母婴用品")))
    r = run_segmentation(members, AS_OF, P)
    assert r.counts()["value"]["high"] == 4
    top = r.importance["value"]
    assert top, r.importance
    # every buyer's last order is 3 days old: recency cannot be what separates them
    assert "days_since_order" not in {f["feature"] for f in top}
    assert top[0]["feature"] in {"orders", "monetary", "aov", "interest:parenting"}
    assert all(f["label"] and not f["label"].isascii() for f in top)
    assert len(top) <= P.importance_top
    tiny = run_segmentation(shop()[:3], AS_OF, P)
    assert tiny.importance == {"value": [], "cluster": []}


def test_talk_and_purchase_of_the_interest_a_category_names_is_not_a_pattern() -> None:
    # An order of 母婴用品 is itself parenting evidence (persona/aggregate.py), so "talks about
    # parenting → bought 母婴用品" would be the purchases finding themselves; a category that
    # names no interest keeps its rules.
    def names(category: str) -> tuple[str, ...]:
        return ("parenting",) if category == "母婴用品" else ()

    lenient = replace(P, min_count=2)
    found = [p for p in run_segmentation(shop(), AS_OF, lenient, category_interests=names).patterns
             if p["kind"] == "association"]
    assert rule(found, "parenting", "母婴用品") is None
    assert rule(found, "fitness", "运动健身") is not None
