"""Score the personas of a labelled community beside two peers, same members, same run.

    python scripts/eval_quality.py DIR [--model MODEL_DIR] [--train-holdout DOMAINS] [--json]

DIR holds community.jsonl (ChatLab), orders.csv and truth.json, as made by
scripts/build_eval_community.py (any community with the same truth layout will do). The real
pipeline runs on a fresh SQLite database in a temporary folder, through the `siyu` entry point
(bot.cli.main) exactly as a person would: ingest, import-orders, segment --as-of,
personas --as-of. Then, from the personas and the per-message signals stored by the ingest:

  complaint AUC   member level, members with >= 2 reviews inside the intent window; truth: at
                  least half of those reviews negative. Ours: the complaint tag's score (0
                  without one); also "ours (share)", the share of the member's window messages
                  the analyser flagged, and "ours (mean)", the tag's mean over the stored
                  confidences of every window message, flagged or not (what the score would
                  be if the tag did not need a flag); in the JSON also "ours_top2" (the same
                  over the member's two surest messages) and "ours_noisy_or" (1 - Π(1 - p)),
                  the member aggregations measured against the mean. Peers: the share of
                  window messages with a negative word (lexicon), the mean probability over
                  window messages (classifier).
  negative F1     message level, every labelled line (small talk counts as not negative).
  interest top-1  the highest interest tag is the truth domain's interest.
  no interest     members with >= 5 reviews (all on their domain's topic) and no interest tag.
  circles ARI     `siyu segment` clusters against the true domains.
  evening         the evening time tag against the posting rhythm.
  lifecycle       segments.lifecycle against the truth.

Peers: a naive negative-word lexicon (NEGATIVE_WORDS below) and a character 1–3-gram TF-IDF
logistic regression trained with scikit-learn on the labelled reviews of every domain except
`--train-holdout` (default: the domains our sentiment model held out, from its metadata, so
both learnt from the same reviews).
`--model DIR` runs the pipeline with another sentiment model (a fold model written by
`scripts/train_sentiment.py --holdout D --out DIR`) in place of the shipped one.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sqlite3
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import adjusted_rand_score, f1_score, roc_auc_score  # noqa: E402

from persona.complaint import PRIOR  # noqa: E402

NEGATIVE_WORDS = (
    "差", "不好", "失望", "垃圾", "慢", "贵", "坏", "退", "问题", "不满", "糟糕", "后悔", "投诉",
    "差评", "烂", "难用", "难吃", "太差", "不值", "坑", "骗", "假", "破", "脏", "吵", "旧",
    "不行", "一般", "郁闷", "生气", "无语", "恶心", "麻烦", "不能", "没有", "不如", "缺点",
)


def siyu(db: str, *args: str) -> str:
    """Run one `siyu` command in this process (so `--model` can stand in) and return stdout."""
    from bot.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--db", db, *args])
    if code != 0:
        raise SystemExit(f"siyu {' '.join(args)} failed ({code}): {err.getvalue()[-2000:]}")
    return out.getvalue()


def run_pipeline(folder: Path, as_of: str, work: Path) -> tuple[dict[str, Any], dict[str, Any],
                                                                dict[int, tuple[str, dict]]]:
    db_file = work / "eval.db"
    db = f"sqlite:///{db_file}"
    siyu(db, "ingest", str(folder / "community.jsonl"), "--json")
    siyu(db, "import-orders", str(folder / "orders.csv"))
    segment = json.loads(siyu(db, "segment", "--as-of", as_of, "--json"))
    personas = json.loads(siyu(db, "personas", "--as-of", as_of, "--json"))
    signals: dict[int, tuple[str, dict]] = {}
    with contextlib.closing(sqlite3.connect(db_file)) as con:
        for origin, text, sig in con.execute("SELECT origin, text, signals FROM message"):
            line = int(origin.rsplit(":", 1)[1])
            signals[line] = (text or "", json.loads(sig) if isinstance(sig, str) else sig)
    return segment, personas, signals


def classifier_peer(holdout: set[str]) -> Any:
    from review_corpus import load_reviews

    train = [r for r in load_reviews() if r.domain not in holdout]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    clf = LogisticRegression(C=4.0, solver="liblinear", max_iter=1000, random_state=0)
    clf.fit(vec.fit_transform([r.text for r in train]), [int(r.negative) for r in train])
    return lambda texts: clf.predict_proba(vec.transform(texts))[:, 1]


def lexicon_hit(text: str) -> bool:
    return any(w in text for w in NEGATIVE_WORDS)


def auc(truth: list[bool], scores: list[float]) -> float | None:
    if len(set(truth)) < 2:
        return None
    return float(roc_auc_score(truth, scores))


def evaluate(folder: Path, train_holdout: set[str] | None = None,
             predict: Any = None) -> dict[str, Any]:
    """The report for one community; `predict` (texts -> probabilities) replaces the trained
    classifier peer, for tests that have no labelled corpus installed."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    from datetime import datetime, timedelta

    as_of = datetime.fromisoformat(truth["as_of"])
    window_start = as_of - timedelta(days=truth["intent_window_days"])
    with tempfile.TemporaryDirectory(prefix="siyu-eval-") as tmp:
        segment, personas, signals = run_pipeline(folder, truth["as_of"], Path(tmp))
    by_member = {p["member_id"]: p for p in personas["members"]}

    # the community file's message lines: member and time of each
    lines: dict[int, tuple[str, datetime]] = {}
    with (folder / "community.jsonl").open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            obj = json.loads(raw)
            if obj.get("_type") == "message":
                lines[n] = (obj["sender"], datetime.fromtimestamp(obj["timestamp"], as_of.tzinfo))
    labelled = {int(k): bool(v) for k, v in truth["messages"].items()}
    texts = {n: signals[n][0] for n in labelled if n in signals}
    order = sorted(texts)
    if predict is None:
        if train_holdout is None:
            from persona.sentiment import default_model

            train_holdout = set(default_model().meta.get("held_out", []))
        predict = classifier_peer(train_holdout)
    probs = dict(zip(order, (float(x) for x in predict([texts[n] for n in order])), strict=True))
    ours_msg = {n: "complaint" in signals[n][1].get("n", []) for n in order}
    lex_msg = {n: lexicon_hit(texts[n]) for n in order}

    members = truth["members"]
    domain_of = {m["member"]: m["domain"] for m in members}
    window_lines: dict[str, list[int]] = defaultdict(list)
    for n in order:
        pid, ts = lines[n]
        if window_start < ts <= as_of:
            window_lines[pid].append(n)

    def tag(p: dict[str, Any] | None, kind: str, code: str | None = None) -> dict | None:
        for t in (p or {}).get("tags", []):
            if t["kind"] == kind and (code is None or t["code"] == code):
                return t
        return None

    groups = ["all", *truth["domains"]]
    report: dict[str, Any] = {"members": len(members), "messages": len(order), "by": {}}
    for group in groups:
        ms = [m for m in members if group == "all" or m["domain"] == group]
        auc_ms = [m for m in ms if m["window_reviews"] >= 2]
        y = [m["complainer"] for m in auc_ms]

        def share(m: dict, flags: dict[int, bool]) -> float:
            ns = window_lines[m["member"]]
            return sum(flags[n] for n in ns) / len(ns) if ns else 0.0

        def confidences(m: dict) -> list[float]:
            return [signals[n][1]["p"] for n in window_lines[m["member"]]
                    if signals[n][1].get("p") is not None]

        def mean_confidence(m: dict) -> float:
            ps = confidences(m)
            return sum(ps) / (len(ps) + PRIOR)

        def top_mean(m: dict, k: int = 2) -> float:
            ps = sorted(confidences(m), reverse=True)[:k]
            return sum(ps) / (len(ps) + PRIOR)

        def noisy_or(m: dict) -> float:
            left = 1.0
            for q in confidences(m):
                left *= 1.0 - q
            return 1.0 - left

        ours = [(tag(by_member.get(m["member"]), "intent", "complaint") or {}).get("score", 0.0)
                for m in auc_ms]
        msg_n = [n for n in order if group == "all" or domain_of[lines[n][0]] == group]
        yt = [labelled[n] for n in msg_n]
        top1 = []
        missing = 0
        for m in ms:
            tags = [t for t in by_member.get(m["member"], {}).get("tags", [])
                    if t["kind"] == "interest"]
            best = max(tags, key=lambda t: t["score"])["code"] if tags else None
            top1.append(best == m["interest"])
            if m["reviews"] >= 5 and best is None:
                missing += 1
        clusters = [by_member.get(m["member"], {}).get("segments", {}).get("cluster") or "-"
                    for m in ms]
        evening = [bool(tag(by_member.get(m["member"]), "time", "evening")) == m["evening"]
                   for m in ms]
        life = [by_member.get(m["member"], {}).get("segments", {}).get("lifecycle")
                == m["lifecycle"] for m in ms]
        report["by"][group] = {
            "auc_members": len(auc_ms), "complainers": sum(y),
            "complaint_auc": {
                "ours": auc(y, ours),
                "ours_share": auc(y, [share(m, ours_msg) for m in auc_ms]),
                "ours_mean": auc(y, [mean_confidence(m) for m in auc_ms]),
                "ours_top2": auc(y, [top_mean(m) for m in auc_ms]),
                "ours_noisy_or": auc(y, [noisy_or(m) for m in auc_ms]),
                "lexicon": auc(y, [share(m, lex_msg) for m in auc_ms]),
                "classifier": auc(y, [sum(probs[n] for n in window_lines[m["member"]])
                                      / max(1, len(window_lines[m["member"]]))
                                      for m in auc_ms]),
            },
            "negative_f1": {
                "ours": float(f1_score(yt, [ours_msg[n] for n in msg_n])),
                "lexicon": float(f1_score(yt, [lex_msg[n] for n in msg_n])),
                "classifier": float(f1_score(yt, [probs[n] >= 0.5 for n in msg_n])),
            },
            "interest_top1": sum(top1) / len(top1) if top1 else None,
            "no_interest_5plus": missing,
            "circles_ari": (float(adjusted_rand_score([m["domain"] for m in ms], clusters))
                            if group == "all" else None),
            "evening": sum(evening) / len(evening) if evening else None,
            "lifecycle": sum(life) / len(life) if life else None,
        }
    report["clusters"] = [{k: c.get(k) for k in ("code", "label", "size", "top_interests")}
                          for c in segment.get("clusters", [])]
    return report


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def print_report(rep: dict[str, Any]) -> None:
    print(f"{rep['members']} members, {rep['messages']} labelled messages")
    head = (f"{'group':10s} {'AUC n':>5s} {'ours':>6s} {'share':>6s} {'mean':>6s}"
            f" {'lexic':>6s} {'clf':>6s}"
            f" | {'F1 ours':>7s} {'lexic':>6s} {'clf':>6s} | {'top1':>6s} {'none5':>5s}"
            f" {'ARI':>6s} {'even':>6s} {'life':>6s}")
    print(head)
    for group, r in rep["by"].items():
        a, f = r["complaint_auc"], r["negative_f1"]
        print(f"{group:10s} {r['auc_members']:5d} {fmt(a['ours']):>6s} {fmt(a['ours_share']):>6s}"
              f" {fmt(a['ours_mean']):>6s} {fmt(a['lexicon']):>6s} {fmt(a['classifier']):>6s}"
              f" | {fmt(f['ours']):>7s}"
              f" {fmt(f['lexicon']):>6s} {fmt(f['classifier']):>6s} |"
              f" {fmt(r['interest_top1']):>6s} {r['no_interest_5plus']:5d}"
              f" {fmt(r['circles_ari']):>6s} {fmt(r['evening']):>6s} {fmt(r['lifecycle']):>6s}")
    print("clusters:", "; ".join(f"{c['code']} {c['label']} ({c['size']})"
                                 for c in rep["clusters"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--model", type=Path, help="a sentiment model folder to use instead")
    ap.add_argument("--train-holdout", help="domains kept from the classifier peer's training "
                    "(default: those our model held out)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.model:
        import persona.sentiment as sentiment

        model = sentiment.load_model((args.model / sentiment.MODEL_FILE).read_bytes(),
                                     (args.model / sentiment.META_FILE).read_text("utf-8"))
        sentiment.default_model = lambda: model  # type: ignore[assignment]
    holdout = None if args.train_holdout is None else {
        d for d in args.train_holdout.split(",") if d and d != "none"}
    rep = evaluate(args.folder, holdout)
    if args.json:
        print(json.dumps(rep, ensure_ascii=False, indent=1))
    else:
        print_report(rep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
