"""Interest words learned from the community (persona/learned.py): what qualifies, what never
does, the operator's overrides, determinism, and how a learned word weighs in a persona."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from persona.aggregate import build_persona
from persona.learned import (
    LEARNED_CAP,
    LEARNED_WEIGHT,
    LearnedWord,
    LearnMessage,
    LearnParams,
    category_interests,
    g2,
    learn_interests,
    learned_hits,
    learned_index,
)
from persona.persona import MessageRecord, PersonaSettings
from persona.signals import Signals

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=SH)
KNOWN = {"小说": ("reading",), "这本书": ("reading",), "酒店": ("travel",), "民宿": ("travel",),
         "手机": ("digital",), "母婴": ("parenting",)}
CODES = ("reading", "travel", "digital", "parenting")


def learn(messages: list[LearnMessage], *args: Any, **kwargs: Any) -> tuple[LearnedWord, ...]:
    """The words learned from a list (learning reads its messages twice, through a factory)."""
    return learn_interests(lambda: messages, *args, **kwargs).words


class Corpus:
    """A small community: readers, travellers and phone people, each saying a hand keyword
    now and then, their own trade words, and the same filler as everyone."""

    def __init__(self) -> None:
        self.messages: list[LearnMessage] = []
        self.n = 0

    def say(self, member: int, words: tuple[str, ...], codes: tuple[str, ...] = ()) -> str:
        self.n += 1
        mid = f"m{self.n:04d}"
        self.messages.append(LearnMessage(member, mid, T0 + timedelta(minutes=self.n), words,
                                          codes))
        return mid


def community() -> Corpus:
    c = Corpus()
    for m in range(0, 8):  # readers: 小说 once, then 译本 and 作者 in their own talk
        c.say(m, ("小说", "推荐"), ("reading",))
        c.say(m, ("译本", "流畅"))
        c.say(m, ("作者", "文笔"))
        c.say(m, ("今天", "好的"))
    for m in range(8, 16):  # travellers
        c.say(m, ("酒店", "周末"), ("travel",))
        c.say(m, ("前台", "热情"))
        c.say(m, ("今天", "好的"))
    for m in range(16, 24):  # phone people
        c.say(m, ("手机", "屏幕"), ("digital",))
        c.say(m, ("续航", "一天"))
        c.say(m, ("今天", "好的"))
    return c


def test_g2_is_zero_when_a_word_is_spread_like_the_population() -> None:
    assert g2(5, 10, 50, 100) == pytest.approx(0.0, abs=1e-9)
    assert g2(8, 8, 24, 72) > 10.83  # every user inside a third of the population


def test_words_that_keep_company_with_known_words_are_learned_and_filler_never() -> None:
    words = {w.word: w for w in learn(community().messages, {}, KNOWN, CODES)}
    assert words["译本"].code == "reading"
    assert words["作者"].code == "reading"
    assert words["前台"].code == "travel"
    assert words["续航"].code == "digital"
    assert words["译本"].source == "company"
    assert words["译本"].basis == ("小说",)
    assert (words["译本"].members, words["译本"].support, words["译本"].messages) == (8, 8, 8)
    for filler in ("今天", "好的"):
        assert filler not in words
    for known in KNOWN:
        assert known not in words  # the hand list already counts them


def test_a_quote_or_two_newest_first_from_the_supporting_members() -> None:
    c = community()
    words = {w.word: w for w in learn(c.messages, {}, KNOWN, CODES)}
    by_id = {m.id: m for m in c.messages}
    quotes = words["前台"].quotes
    assert len(quotes) == 2
    assert all("前台" in by_id[q].words for q in quotes)
    assert by_id[quotes[0]].ts > by_id[quotes[1]].ts


def test_adverbs_fragments_and_city_names_are_never_learned() -> None:
    c = Corpus()
    for m in range(8):
        c.say(m, ("小说",), ("reading",))
        c.say(m, ("很快", "液是", "看过", "杭州", "译本"))
        c.say(m + 10, ("酒店",), ("travel",))
        c.say(m + 20, ("手机",), ("digital",))
    words = {w.word for w in learn(c.messages, {}, KNOWN, CODES,
                                             LearnParams(never=frozenset({"杭州"})))}
    assert words == {"译本"}
    assert {w.word for w in learn(c.messages, {}, KNOWN, CODES)} == {"译本", "杭州"}


def test_too_few_members_is_not_evidence() -> None:
    c = Corpus()
    for m in range(6):
        c.say(m, ("小说",), ("reading",))
        c.say(m + 10, ("酒店",), ("travel",))
    for _ in range(6):  # one member says it six times
        c.say(0, ("译本",))
    assert learn(c.messages, {}, KNOWN, CODES) == ()


def test_buyers_words_are_learned_for_the_category_interest() -> None:
    c = Corpus()
    for m in range(12):  # nobody says a hand keyword of the travel interest
        c.say(m, ("房间", "干净") if m < 6 else ("物流", "今天"))
        c.say(m, ("好的",))
    bought = {m: {"酒店用品"} for m in range(6)}
    words = {w.word: w for w in learn(c.messages, bought, KNOWN, CODES,
                                                LearnParams(min_g2=5.0))}
    assert words["房间"].code == "travel"
    assert words["房间"].source == "bought"
    assert words["房间"].basis == ("酒店用品",)
    assert "物流" not in words and "好的" not in words


def test_a_category_without_a_keyword_in_its_name_maps_by_its_buyers_interests() -> None:
    belongs = {m: "reading" for m in range(6)} | {m: "travel" for m in range(6, 18)}
    bought = {m: {"图书"} for m in range(5)} | {m: {"杂货"} for m in range(6, 18, 2)}
    got = category_interests(belongs, bought, KNOWN, set(CODES), LearnParams(min_g2=5.0))
    assert got == {"图书": "reading"}  # 杂货's buyers lean no more to travel than all do
    assert category_interests({}, {1: {"母婴用品"}}, KNOWN, set(CODES),
                              LearnParams()) == {"母婴用品": "parenting"}


def test_rejected_words_are_never_learned_and_pinned_ones_always() -> None:
    params = LearnParams(reject=frozenset({"译本"}), pin={"文笔": "travel", "没人说": "reading"})
    words = {w.word: w for w in learn(community().messages, {}, KNOWN, CODES, params)}
    assert "译本" not in words
    assert words["文笔"].code == "travel" and words["文笔"].source == "pinned"
    assert words["文笔"].members == 8
    assert words["没人说"].messages == 0
    bad = LearnParams(pin={"文笔": "no_such_interest"})
    assert "文笔" not in {w.word for w in learn(community().messages, {}, KNOWN,
                                                          CODES, bad)}


def test_learning_is_deterministic_whatever_the_input_order() -> None:
    c = community()
    first = learn(c.messages, {1: {"图书"}}, KNOWN, CODES)
    shuffled = list(c.messages)
    random.Random(3).shuffle(shuffled)
    assert learn(shuffled, {1: {"图书"}}, KNOWN, CODES) == first
    assert [w.word for w in first] == sorted(w.word for w in first)


def test_learned_hits_weigh_half_a_keyword_and_cap_per_message() -> None:
    index = {"译本": "reading", "作者": "reading", "文笔": "reading", "前台": "travel"}
    assert learned_hits(["译本"], index) == {"reading": LEARNED_WEIGHT}
    assert learned_hits(["译本", "作者", "文笔", "译本"], index) == {"reading": LEARNED_CAP}
    assert learned_hits(["前台", "好的"], index) == {"travel": LEARNED_WEIGHT}
    assert learned_hits(["Kindle"], {"kindle": "reading"}) == {"reading": LEARNED_WEIGHT}
    assert learned_index([]) == {}


def test_a_persona_counts_learned_words_below_hand_keywords_with_the_message_as_evidence(
) -> None:
    as_of = T0 + timedelta(days=1)
    records = [MessageRecord("a", T0, "g", "text", Signals(keywords=["译本", "流畅"])),
               MessageRecord("b", T0, "g", "text", Signals(interests={"travel": 1.0},
                                                            keywords=["酒店"]))]
    learned = PersonaSettings(tz=SH, learned={"译本": "reading"})
    p = build_persona("m", "n", records, as_of, learned, {"reading": "阅读"})
    tags = {t.code: t for t in p.tags if t.kind == "interest"}
    assert tags["reading"].evidence == ["a"]
    assert tags["reading"].label == "阅读"
    assert 0 < tags["reading"].score < tags["travel"].score
    plain = build_persona("m", "n", records, as_of, PersonaSettings(tz=SH), {})
    assert "reading" not in {t.code for t in plain.tags}
