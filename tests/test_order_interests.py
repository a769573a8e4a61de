"""What a member buys is interest evidence: an order whose category names an interest counts
like one mention of it in chat, with the order as its evidence."""

from __future__ import annotations

from datetime import timedelta

from segment_fixtures import AS_OF, SETTINGS, order

from persona.aggregate import build_persona
from persona.commerce import category_interests
from persona.persona import PersonaSettings

KEYWORDS = {"母婴": ("parenting",), "生鲜": ("food",), "苹果": ("food",),
            "手机": ("digital",), "苹果手机": ("digital",), "数码": ("digital",)}


def test_a_category_names_the_interests_of_its_keywords() -> None:
    assert category_interests("母婴用品", KEYWORDS) == ("parenting",)
    assert category_interests("食品生鲜", KEYWORDS) == ("food",)
    assert category_interests("出行用品", KEYWORDS) == ()
    # the longer keyword decides: an iPhone is not fruit
    assert category_interests("苹果手机", KEYWORDS) == ("digital",)
    assert category_interests("数码·生鲜", KEYWORDS) == ("digital", "food")


def test_a_silent_buyer_has_the_interest_her_orders_name() -> None:
    ps = PersonaSettings(tz=SETTINGS.tz, interest_keywords=KEYWORDS)
    orders = [order("o1", 3, 120, "母婴用品"), order("o2", 10, 80, "母婴用品"),
              order("o3", 5, 40, None), order("o4", 6, 40, "出行用品")]
    p = build_persona("m", "n", [], AS_OF, ps, {}, orders=orders)
    interests = {t.code: t for t in p.tags if t.kind == "interest"}
    assert set(interests) == {"parenting"}
    assert interests["parenting"].evidence == ["o1", "o2"]
    # without the taxonomy's keywords an order names nothing (as before)
    plain = build_persona("m", "n", [], AS_OF, PersonaSettings(tz=SETTINGS.tz), {}, orders=orders)
    assert not [t for t in plain.tags if t.kind == "interest"]


def test_an_old_order_fades_like_an_old_mention() -> None:
    ps = PersonaSettings(tz=SETTINGS.tz, interest_keywords=KEYWORDS)
    recent = build_persona("m", "n", [], AS_OF, ps, {}, orders=[order("o1", 1, 50, "母婴用品")])
    old = build_persona("m", "n", [], AS_OF + timedelta(days=60), ps, {},
                        orders=[order("o1", 1, 50, "母婴用品")])
    now, later = (next((t.score for t in p.tags if t.code == "parenting"), 0.0)
                  for p in (recent, old))
    assert 0 < later < now
