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


def test_platform_category_names_name_an_interest_in_orders_only() -> None:
    """Shops name departments as platforms do ("图书", "鞋靴", "个护", "电脑办公"); no chat
    keyword is inside those names, so their buyers' orders named nothing. The taxonomy's
    `categories` read them, in the category column only: a message saying 图书 or 鞋靴 is
    no more an interest than before."""
    from datetime import UTC, datetime

    from bot.app import App
    from handlers.personas import interest_keywords
    from handlers.settings import Settings

    settings = Settings()
    index = interest_keywords(settings)
    assert category_interests("图书音像", index) == ("reading",)
    assert category_interests("鞋靴箱包", index) == ("fashion",)
    assert category_interests("个护清洁", index) == ("beauty",)
    assert category_interests("电脑办公", index) == ("digital",)
    assert category_interests("母婴用品", index) == ("parenting",)  # by its keyword, as before
    app = App(settings)
    assert "图书" not in app.lexicon.interest_index
    said = app.analyzer.analyse("这家店的图书和鞋靴都挺全", "text",
                                datetime(2026, 11, 1, tzinfo=UTC))
    assert not said.interests


def test_a_taxonomy_file_may_give_categories_and_a_typo_is_refused() -> None:
    import pytest

    from persona.lexicon import LexiconError
    from persona.lexicon_parse import parse_lexicon
    from persona.resources import default_texts

    texts = default_texts()
    texts["taxonomy.toml"] = ('[tea]\nlabel = "茶"\nkeywords = ["普洱"]\n'
                              'categories = ["茗茶", "普洱"]\n')
    lx = parse_lexicon(texts)
    assert lx.category_index["茗茶"] == ("tea",) and lx.category_index["普洱"] == ("tea",)
    assert "茗茶" not in lx.interest_index
    texts["taxonomy.toml"] = '[tea]\nlabel = "茶"\nkeywords = ["普洱"]\ncategory = ["茗茶"]\n'
    with pytest.raises(LexiconError, match="category"):
        parse_lexicon(texts)
