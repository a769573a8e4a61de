"""Ingest throughput, measured side by side with the bare tokenizers in one run.

    python scripts/bench_ingest.py [--messages 100000] [--keep DIR]

Generates a ChatLab JSONL file of sample-community chat (scripts/sample_community.py), then
times, on the same texts and machine, back to back:
  1. a bare `jieba.lcut` loop            (the classic tokenizer)
  2. a bare `rjieba.cut` loop            (the floor: nothing can be faster than tokenising)
  3. the naive peer: `jieba.analyse.extract_tags` on every message (what a keyword tagger
     written in an afternoon does; no storage at all)
  4. `siyu ingest` with tokenizer=jieba  (a fresh SQLite database, all tags derived and stored)
  5. `siyu ingest` with tokenizer=rjieba (the automatic fast path)
and prints messages per second and the ratios between them, plus the machine (cores, load
average, Python) because the machine is shared and noisy: compare ratios from one run, not
absolute numbers across runs. The dictionary loads of the bare loops and the peer are left out
of their times (warmed up first); `siyu ingest` is timed as a person runs it, start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from sample_community import write_bulk_jsonl  # noqa: E402


def texts_of(path: Path) -> list[str]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            if obj.get("_type") == "message" and isinstance(obj.get("content"), str):
                out.append(obj["content"])
    return out


def bare_jieba(texts: list[str]) -> float:
    import jieba

    tok = jieba.Tokenizer()
    tok.initialize()  # dictionary load is start-up, not throughput
    start = time.perf_counter()
    for t in texts:
        tok.lcut(t)
    return time.perf_counter() - start


def bare_rjieba(texts: list[str]) -> float:
    import rjieba

    rjieba.cut("预热")
    start = time.perf_counter()
    for t in texts:
        rjieba.cut(t)
    return time.perf_counter() - start


def extract_tags_peer(texts: list[str]) -> float:
    """The naive peer: jieba's TF-IDF keyword extraction called once per message."""
    import jieba
    import jieba.analyse

    jieba.initialize()
    jieba.analyse.extract_tags("预热一下关键词提取")  # loads the IDF table
    extract = jieba.analyse.extract_tags
    start = time.perf_counter()
    for t in texts:
        extract(t)
    return time.perf_counter() - start


def machine() -> str:
    """Cores, load average and Python: the context every figure below needs."""
    try:
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load average n/a"
    return (f"machine: {platform.platform()}, {os.cpu_count()} cores, {load}, Python "
            f"{platform.python_version()} ({platform.python_implementation()})")


def siyu_ingest(data: Path, work: Path, tokenizer: str) -> tuple[float, dict[str, object]]:
    db = work / f"bench-{tokenizer}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg = work / f"siyu-{tokenizer}.toml"
    cfg.write_text(f'tokenizer = "{tokenizer}"\n', encoding="utf-8")
    siyu = Path(sys.executable).parent / "siyu"
    cmd = [str(siyu), "--db", f"sqlite:///{db}", "--config", str(cfg), "ingest", str(data),
           "--json"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"siyu ingest failed ({tokenizer}):\n{proc.stderr}")
    return elapsed, json.loads(proc.stdout)


def tag_dump(db: Path) -> list[tuple[object, ...]]:
    """Every stored tag and message signal, keyed by stable ids: equal means same results."""
    con = sqlite3.connect(db)
    try:
        tags = con.execute(
            "SELECT m.member_id, t.code, t.kind, t.label, t.score, t.evidence, t.expires_at, "
            "t.source, t.computed_at FROM tag t JOIN member m ON m.id = t.member_pk").fetchall()
        signals = con.execute("SELECT id, signals FROM message").fetchall()
    finally:
        con.close()
    return sorted(tags, key=repr) + sorted(signals)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="write data and databases here and keep them")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="siyu-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "bulk.jsonl"
    t0 = time.perf_counter()
    n = write_bulk_jsonl(data, args.messages)
    gen = time.perf_counter() - t0
    texts = texts_of(data)
    chars = sum(len(t) for t in texts)

    distinct = len(set(texts))
    print(machine())
    print(f"data: {n} messages ({len(texts)} with text, mean {chars / max(1, len(texts)):.1f} "
          f"chars, {distinct} distinct texts), generated in {gen:.1f}s → {data}")

    results: dict[str, tuple[float, int]] = {}
    results["bare jieba.lcut loop"] = (bare_jieba(texts), len(texts))
    results["bare rjieba.cut loop"] = (bare_rjieba(texts), len(texts))
    results["peer: extract_tags per message"] = (extract_tags_peer(texts), len(texts))
    for tok in ("jieba", "rjieba"):
        elapsed, report = siyu_ingest(data, work, tok)
        results[f"siyu ingest (tokenizer={tok})"] = (elapsed, n)
        print(f"  ingest {tok}: new={report['new']} duplicate={report['duplicate']} "
              f"self_skipped={report['self_skipped']} rejected={len(report['rejected'])} "
              f"personas={report['personas_updated']}")

    same = tag_dump(work / "bench-jieba.db") == tag_dump(work / "bench-rjieba.db")
    print(f"  stored tags and signals, jieba vs rjieba: "
          f"{'identical' if same else 'MISMATCH'} ({len(tag_dump(work / 'bench-rjieba.db'))} rows)")

    floor = results["bare rjieba.cut loop"]
    floor_rate = floor[1] / floor[0]
    jieba_rate = results["bare jieba.lcut loop"][1] / results["bare jieba.lcut loop"][0]
    peer = results["peer: extract_tags per message"]
    peer_rate = peer[1] / peer[0]
    print()
    print(f"{'run':34} {'seconds':>9} {'msgs/s':>10} {'÷ rjieba loop':>14} {'÷ jieba loop':>13} "
          f"{'÷ peer':>8}")
    for name, (secs, count) in results.items():
        rate = count / secs
        print(f"{name:34} {secs:9.2f} {rate:10.0f} {rate / floor_rate:14.3f} "
              f"{rate / jieba_rate:13.3f} {rate / peer_rate:8.2f}")
    print("\ntargets: siyu ingest (rjieba) ≥ 10× the peer and ≥ 0.3× the bare rjieba loop")
    print(machine().replace("machine:", "machine after the runs:"))
    print("\n(siyu ingest times include process start-up, dictionary load, SQLite writes and "
          "persona tag rebuild.)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
