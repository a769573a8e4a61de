"""CPU time of the analyser per text, for the complaint model's cost at ingest (not a test).

    python scripts/time_complaint.py FILE.jsonl [...] [--root CHECKOUT] [--rounds 3] [--chunk N]

Reads the distinct message texts of ChatLab JSONL files (a `siyu demo` group, the bench's bulk
chat from `scripts/sample_community.py --bulk`, an eval community), builds the analyser of the
checkout at --root (default: this one; pass another worktree to time main beside a branch), and
prints per round the CPU µs per text of `Analyzer.analyse` one text at a time (the live path)
and, where the checkout has it, of `Analyzer.analyse_many` on chunks of --chunk texts (the
ingest: the complaint model batched), and how many texts reached the sentiment model. Run two
checkouts alternately on the same files: the machine is shared, and only the difference of
interleaved rounds means anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def texts_of(paths: list[Path]) -> list[str]:
    """Distinct text contents in file order (the ingest analyses each distinct text once)."""
    seen: dict[str, None] = {}
    for path in paths:
        raw = path.read_text(encoding="utf-8")
        objs = ([json.loads(line) for line in raw.splitlines() if line.strip()]
                if path.suffix == ".jsonl" else json.loads(raw).get("messages", []))
        for obj in objs:
            text = obj.get("content")
            if obj.get("_type", "message") == "message" and isinstance(text, str) and text:
                seen.setdefault(text, None)
    return list(seen)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", type=Path, nargs="+")
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=1000,
                    help="texts per analyse_many call (handlers/ingest_pool.py: CHUNK)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.root.resolve()))
    import persona.analyze as analyze_mod
    import persona.sentiment as sentiment
    from persona.resources import default_lexicon
    from persona.text import make_tokenizer

    texts = texts_of(args.files)
    lexicon = default_lexicon()
    analyzer = analyze_mod.Analyzer(lexicon, make_tokenizer("rjieba", lexicon.user_words()))
    sentiment.default_model()
    calls = 0
    plain = sentiment.SentimentModel.negative_probability

    def counted(self: object, text: str) -> float:
        nonlocal calls
        calls += 1
        return plain(self, text)  # type: ignore[arg-type]

    ts = datetime(2026, 6, 1, 12, tzinfo=UTC)
    for t in texts[:200]:  # warm up: token memo, jieba, the model's first calls
        analyzer.analyse(t, "text", ts)
    sentiment.SentimentModel.negative_probability = counted  # type: ignore[method-assign]
    many = getattr(analyzer, "analyse_many", None)
    print(f"{sentiment.__file__}: {len(texts)} distinct texts")
    for r in range(args.rounds):
        calls = 0
        start = time.process_time()
        for t in texts:
            analyzer.analyse(t, "text", ts)
        spent = time.process_time() - start
        print(f"round {r}: analyse      {spent / len(texts) * 1e6:6.1f} µs/text, {spent:.2f} s, "
              f"{calls} model calls")
        if many is not None:
            calls = 0
            start = time.process_time()
            for i in range(0, len(texts), args.chunk):
                many([(t, "text", ts) for t in texts[i:i + args.chunk]])
            spent = time.process_time() - start
            print(f"round {r}: analyse_many {spent / len(texts) * 1e6:6.1f} µs/text, "
                  f"{spent:.2f} s, {calls} model calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
