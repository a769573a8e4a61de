"""The report's pain-point lines: phrases with how many members wrote them and one member's
words; runs stored before pain points carried a quote show name and count only."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.report import card_text, pain_points

TZ = ZoneInfo("Asia/Shanghai")
LONG = ("来交作业了，奶粉的真实反馈：就是物流慢了一点，等了五天，比之前在超市买的性价比高，"
        "成分表看了一下，没有乱七八糟的添加。会回购的。")


def quote(text: str, chat: str | None = "宝妈群") -> dict[str, object]:
    return {"id": "m1", "text": text, "member_id": "wxid_a", "chat": chat,
            "ts": "2026-11-12T21:31:00+08:00"}


def card(dimension: str, pains: list[dict[str, object]]) -> dict[str, object]:
    return {"segment": {"dimension": dimension, "code": "x", "label": "成熟用户"},
            "name": "精打细算的宝妈 · 林悦", "size": 3, "share": 0.5, "pain_points": pains,
            "needs": [{"word": "有没有大码", "members": 2, "quote": quote("请问有大码吗？")}]}


def test_pain_points_show_count_and_the_clause_that_says_it() -> None:
    doc = {"cards": [
        card("lifecycle", [{"word": "物流慢", "members": 2, "category": "delivery",
                            "quote": quote(LONG)},
                           {"word": "客服不回", "members": 1, "category": "service",
                            "quote": quote("收到的瓶子破损了，客服也不回", None)}]),
        card("lifecycle", [{"word": "物流慢", "members": 1, "quote": quote("物流太慢了")}]),
        card("value", [{"word": "物流慢", "members": 9, "quote": quote("物流太慢了")}]),
    ]}
    assert pain_points(doc) == [
        "物流慢（3 人提到）：「…就是物流慢了一点…」（宝妈群）",
        "客服不回（1 人提到）：「收到的瓶子破损了，客服也不回」",
    ]


def test_a_card_lists_phrases_and_quotes_its_top_pain_points() -> None:
    lines = card_text(card("lifecycle", [{"word": "物流慢", "members": 2, "quote": quote(LONG)},
                                         {"word": "漏尿", "members": 1,
                                          "quote": quote("这款纸尿裤漏尿")}]), TZ)
    assert "  核心需求：有没有大码（2 人）" in lines
    assert "  痛点：物流慢（2 人）、漏尿" in lines
    assert "    · 漏尿：「这款纸尿裤漏尿」（宝妈群）" in lines


def test_runs_stored_before_quotes_show_name_and_count() -> None:
    old = {"cards": [card("lifecycle", [{"word": "物流", "members": 2}])]}
    assert pain_points(old) == ["物流（2 人提到）"]
    lines = card_text(old["cards"][0], TZ)
    assert "  痛点：物流（2 人）" in lines and not any("· 物流" in line for line in lines)
