"""A learned negative-review model: does this message read like an unhappy shopper?

Hand cue lists miss most real complaints ("比想象中重点，不大适合女生携带", "似乎散热不太好")
and flag praise that happens to contain a cue word; a linear model over character n-grams,
trained on real shoppers' labelled reviews (scripts/train_sentiment.py, source pinned there),
catches the ways people actually phrase disappointment in any product domain.

The shipped model is plain arrays, not a pickled estimator, so it loads the same under any
scikit-learn (or none): `sentiment.npz` holds the n-gram vocabulary, each n-gram's weight
already multiplied by its idf, each idf squared, and the intercept; `sentiment.json` says
where it came from, what it was trained on and the decision threshold. The features are those
of scikit-learn's TfidfVectorizer(analyzer="char", ngram_range=(1, 3), binary=True, norm="l2")
restricted to the vocabulary, so a message's probability is

    sigmoid(b + Σ_g w_g·idf_g / sqrt(Σ_g idf_g²))   over the distinct known n-grams g,

which `negative_probability` computes with two dict look-ups per n-gram and no matrix at all
(a chat message is a few dozen n-grams; building a sparse row would cost more than summing).
Pure: `SentimentModel.from_arrays` takes arrays; only `default_model` reads the bundled file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Any, NamedTuple

import numpy as np

from persona.signals import COMPLAINT_DIGITS

NGRAM_MIN = 1
NGRAM_MAX = 3
# Longer messages are judged on their start: an essay pasted into a chat says enough early.
MAX_CHARS = 300
# Messages shorter than this (in characters) are left to the cue rules: "太贵了", "收到".
MIN_CHARS = 5
# Alone, the model makes a complaint only when it finds one more likely than not, even where its
# tuned threshold is lower: that threshold was set on reviews, half of them complaints, and in a
# chat far fewer lines are.
ALONE_AT_LEAST = 0.5
MODEL_FILE = "sentiment.npz"
META_FILE = "sentiment.json"


def char_grams(text: str) -> set[str]:
    """The distinct character 1–3-grams of a (normalised) message, lower-cased.

    Whitespace runs count as one space, as in scikit-learn's char analyser, which the training
    script uses on exactly these strings.
    """
    t = " ".join(text.lower()[:MAX_CHARS].split())
    n = len(t)
    grams: set[str] = set()
    for size in range(NGRAM_MIN, NGRAM_MAX + 1):
        for i in range(n - size + 1):
            grams.add(t[i:i + size])
    return grams


@dataclass(frozen=True, slots=True)
class SentimentModel:
    """Weights of the negative-review model, ready for look-ups (treat as read-only)."""

    # n-gram -> (weight × idf, idf²)
    table: dict[str, tuple[float, float]]
    intercept: float
    # a message at or above this probability reads as a complaint
    threshold: float
    meta: dict[str, Any]

    @classmethod
    def from_arrays(cls, grams: Sequence[str], weights: np.ndarray, idf: np.ndarray,
                    intercept: float, threshold: float,
                    meta: dict[str, Any] | None = None) -> SentimentModel:
        if not (len(grams) == len(weights) == len(idf)):
            raise ValueError("sentiment model: grams, weights and idf differ in length")
        wi = (np.asarray(weights, dtype=np.float64) * idf).tolist()
        sq = (np.asarray(idf, dtype=np.float64) ** 2).tolist()
        return cls(dict(zip(grams, zip(wi, sq, strict=True), strict=True)), float(intercept),
                   float(threshold), dict(meta or {}))

    def negative_probability(self, text: str) -> float:
        """P(negative review) of one normalised message; 0.5-ish for text it knows nothing of."""
        table = self.table
        dot = 0.0
        norm = 0.0
        for g in char_grams(text):
            hit = table.get(g)
            if hit is not None:
                dot += hit[0]
                norm += hit[1]
        z = self.intercept + (dot / math.sqrt(norm) if norm > 0.0 else 0.0)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def predict_many(self, texts: Iterable[str]) -> list[float]:
        """Probabilities for a batch (the evaluation and any bulk caller)."""
        return [self.negative_probability(t) for t in texts]


def load_model(npz: bytes, meta_text: str) -> SentimentModel:
    """A model from the bytes of sentiment.npz and the text of sentiment.json."""
    meta = json.loads(meta_text)
    with np.load(BytesIO(npz), allow_pickle=False) as data:
        grams = data["grams"].tolist()
        intercept = float(np.ravel(data["intercept"])[0])
        return SentimentModel.from_arrays(grams, data["weights"], data["idf"], intercept,
                                          float(meta["threshold"]), meta)


# ...and more than that when the message names no product or service (no interest keyword, no
# price / quality / service cue): chat is full of troubles that are not about the shop
# ("上班族，晚上才有空看群" reads as low spirits to a review model), while a review sentence is
# about the product even when it names none. A hard "must name something" gate was measured in
# docs/quality.md and cost recall on held-out reviews; this margin keeps most of it.
NO_ASPECT_AT_LEAST = 0.6
# ...and far more in a message the rules read as praise: a mixed line is a complaint too, but the
# praise words pull the model's p down, so only a sure p overrides them. Most mixed lines are the
# cue rules' anyway ("酒店位置不错，但是房间隔音太差"); this catches the rest of what the model is
# sure of. Chosen with the other gates on the training domains (docs/quality.md).
PRAISE_AT_LEAST = 0.8


# A complaint the cue rules found ("太贵了", "还没发货") is about this sure: the rules scope
# negation, which character n-grams cannot, and they rarely misfire. (Asking the model too, for a
# surer figure, cost a model call on every rule complaint for a ranking it barely changed.)
RULE_CONFIDENCE = 0.9


class Judgement(NamedTuple):
    """The analyser's complaint decision on one message and how sure it is of it."""

    complaint: bool
    # 0..1, or None when the message voices no opinion to judge (see `complaint_judgement`)
    confidence: float | None


def complaint_judgement(text: str, rule: bool, settled: bool, aspect: bool = True,
                        opinion: bool = True, praise: bool = False,
                        model: SentimentModel | None = None) -> Judgement:
    """The cue rules, widened and corrected by the model: a complaint flag and its confidence.

    `rule` is the cue rules' verdict, and it stands: the rules scope negation ("不是很满意" is a
    complaint, which character n-grams cannot tell from "很满意"). `opinion` says the message
    voices a view at all: a question, a purchase request or the speaker saying who they are does
    not, and gets no confidence (a model trained on reviews hears a grumble in "有没有优惠？",
    reviews never ask, and in people introducing themselves). `settled` says the rules know what
    the message is without it being a complaint (a negated cue such as "一点都不难用", a fixed
    idiom such as "没问题", "贵点没关系"); there the model sets the confidence but adds no flag.
    `praise` (the rules found praise) asks the model for more (PRAISE_AT_LEAST): praise and a
    complaint can share a line.
    `aspect` says the message names a product or service (see NO_ASPECT_AT_LEAST). Everywhere
    else, measured on held-out review domains (docs/quality.md), the model finds the many
    complaints that name no cue word ("似乎散热不太好", "线头很多").
    """
    if rule:
        return Judgement(True, RULE_CONFIDENCE)
    if not opinion or len(text) < MIN_CHARS:
        return Judgement(False, None)
    m = model or default_model()
    p = m.negative_probability(text)
    floor = ALONE_AT_LEAST if aspect else NO_ASPECT_AT_LEAST
    if praise:
        floor = max(floor, PRAISE_AT_LEAST)
    return Judgement(not settled and p >= max(m.threshold, floor), round(p, COMPLAINT_DIGITS))


@cache
def default_model() -> SentimentModel:
    """The bundled model (persona/data/sentiment.npz), loaded once per process."""
    data = files("persona").joinpath("data")
    return load_model(data.joinpath(MODEL_FILE).read_bytes(),
                      data.joinpath(META_FILE).read_text(encoding="utf-8"))
