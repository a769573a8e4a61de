"""Interests a word belongs to: baking talk is food and home (kitchen) life, not food only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from persona.analyze import Analyzer
from persona.resources import default_lexicon
from persona.text import make_tokenizer

TS = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    lexicon = default_lexicon()
    return Analyzer(lexicon, make_tokenizer("jieba", lexicon.user_words()))


@pytest.mark.parametrize("text", ["周末在家烘焙了一炉面包", "新买的烤箱好用吗？"])
def test_baking_counts_for_food_and_home(analyzer: Analyzer, text: str) -> None:
    interests = set(analyzer.analyse(text, "text", TS).interests)
    assert {"food", "home"} <= interests, interests


def test_plain_food_talk_stays_food(analyzer: Analyzer) -> None:
    assert set(analyzer.analyse("这家火锅真好吃", "text", TS).interests) == {"food"}
