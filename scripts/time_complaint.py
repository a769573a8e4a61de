"""CPU time of the analyser per text, for the complaint model's cost at ingest (not a test).

    python scripts/time_complaint.py FILE.jsonl [FILE.jsonl ...] [--root CHECKOUT] [--rounds 3]

Reads the distinct message texts of ChatLab JSONL files (a `siyu demo` group, the bench's bulk
chat from `scripts/sample_community.py --bulk`, an eval community), builds the analyser of the
checkout at --root (default: this one; pass another worktree to time main beside a branch), and
prints per round the CPU µs per text of `Analyzer.analyse` and how many texts reached the
sentiment model. Run two checkouts alternately on the same files: the machine is shared, and
only the difference of interleaved rounds means anything.
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
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.root.resolve()))
    import persona.analyze as analyze_mod
    import persona.sentiment as sentiment
    from persona.resources import default_lexicon
    from persona.text import make_tokenizer

    texts = texts_of(args.files)
    lexicon = default_lexicon()
    analyzer = analyze_mod.Analyzer(lexicon, make_tokenizer("rjieba", lexicon.user_words()))
    model = sentiment.default_model()
    calls = 0
    plain = model.negative_probability

    def counted(text: str) -> float:
        nonlocal calls
        calls += 1
        return plain(text)

    ts = datetime(2026, 6, 1, 12, tzinfo=UTC)
    for t in texts[:200]:  # warm up: token memo, jieba, the model's first calls
        analyzer.analyse(t, "text", ts)
    sentiment.SentimentModel.negative_probability = (  # type: ignore[method-assign]
        lambda self, text: counted(text))
    print(f"{sentiment.__file__}: {len(texts)} distinct texts")
    for r in range(args.rounds):
        calls = 0
        start = time.process_time()
        for t in texts:
            analyzer.analyse(t, "text", ts)
        spent = time.process_time() - start
        print(f"round {r}: {spent / len(texts) * 1e6:.1f} µs/text, {spent:.2f} s, "
              f"{calls} model calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
