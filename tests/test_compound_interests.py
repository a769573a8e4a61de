"""Interest keywords inside jieba's dictionary compounds: 手机电池 is phone talk, 鲜牛奶 food.

jieba keeps many noun-noun compounds whole, so without reading through them a shopper's
complaint about a phone battery named no interest at all. Only dictionary words are read this
way: what the HMM glues together from unknown characters (来交作业, shop slang for posting a
review) is not a noun phrase.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from persona.analyze import Analyzer
from persona.resources import default_lexicon
from persona.text import make_tokenizer

TS = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["jieba", "rjieba"])
def analyzer(request: pytest.FixtureRequest) -> Analyzer:
    lexicon = default_lexicon()
    return Analyzer(lexicon, make_tokenizer(request.param, lexicon.user_words()))


@pytest.mark.parametrize(("text", "code"), [
    ("手机电池一天要充三次，发热严重", "digital"),   # 手机电池: 手机 before a non-keyword
    ("这款鲜牛奶有没有优惠？", "food"),              # 鲜牛奶: a describing character, 牛奶
    ("家里装的中央空调噪音太大了", "home"),          # 中央空调: the keyword last
])
def test_a_dictionary_compound_names_its_interest(analyzer: Analyzer, text: str,
                                                  code: str) -> None:
    assert code in analyzer.analyse(text, "text", TS).interests


@pytest.mark.parametrize("text", [
    "来交作业了，蛋黄酥的真实反馈：包装很严实",  # HMM-made 来交作业: not homework, not education
    "周末在家洗衣服",                            # a verb before 衣服: a chore, not fashion
    "宝宝们晚上好",                               # the form of address stays not parenting
])
def test_what_is_not_a_compound_of_a_keyword_names_none(analyzer: Analyzer, text: str) -> None:
    assert not analyzer.analyse(text, "text", TS).interests


def test_the_tokenizer_knows_only_dictionary_compounds() -> None:
    lexicon = default_lexicon()
    tk = make_tokenizer("rjieba", lexicon.user_words())
    assert {"手机电池", "鲜牛奶", "中央空调"} <= tk.compounds
    assert "来交作业" not in tk.compounds
