"""Ingest throughput, measured side by side with the bare tokenizers in one run.

    python scripts/bench_ingest.py [--messages 200000] [--rounds 2] [--keep DIR]
                                   [--before CHECKOUT]

Generates a ChatLab JSONL file of sample-community chat (scripts/sample_community.py: members,
times, message types) whose text messages carry mostly distinct, chat-length texts cut from
real shoppers' reviews (scripts/review_corpus.py, `pip install -e '.[eval]'`): 95 % get a
fresh text of one to three review clauses, 5 % keep the sample's own repeated chat lines
("好的", "收到" …). Repeated texts flatter the ingest (each distinct text is analysed once), so
the distinct share is printed. Then times, on the same texts and machine, back to back:
  1. a bare `jieba.lcut` loop            (the classic tokenizer)
  2. a bare `rjieba.cut` loop            (nothing can be faster than tokenising)
  3. the naive peer: `jieba.analyse.extract_tags` on every message (what a keyword tagger
     written in an afternoon does; no storage at all)
  4. `siyu ingest --workers 1` and `--workers 2` (rjieba, a fresh SQLite database each, all
     tags derived and stored), alternating `--rounds` times; with `--before CHECKOUT` each run
     is preceded by the same run of that checkout's code (e.g. `git worktree add --detach
     /tmp/main-before main`), and the two checkouts' stored tags and signals are compared
and prints wall and CPU seconds (CPU of the workers included), messages per second and the
ratios between them, with the load average before each run, because the machine is shared
and noisy: compare ratios from one run, not absolute numbers across runs. The dictionary loads
of the bare loops and the peer are left out of their times (warmed up first); `siyu ingest` is
timed as a person runs it, start-up included. Then where one ingest spends its time (one
process, and the main process of a pooled one) and the floors of the bare operations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from sample_community import write_bulk_jsonl  # noqa: E402

# Share of text messages that get a fresh review text (the rest keep the sample's chat lines).
FRESH_SHARE = 0.95
_CLAUSE = re.compile(r"[^。！？；，,!?;…]+[。！？；，,!?;…]*")


def review_clauses() -> list[list[str]]:
    """Each review (and news and small-talk line) as its clauses, punctuation kept."""
    from review_corpus import load_chat, load_neutral, load_reviews

    texts = [r.text for r in load_reviews()] + load_neutral() + load_chat()
    out = []
    for text in texts:
        clauses = [c for c in _CLAUSE.findall(text) if c.strip()]
        if clauses:
            out.append(clauses)
    return out


def distinct_texts(clauses: list[list[str]], rng: random.Random) -> Iterator[str]:
    """Chat-length texts, each new: one to three neighbouring clauses of one review, or when
    those run out, a clause of one review followed by a clause of another."""
    seen: set[str] = set()
    while True:
        review = rng.choice(clauses)
        start = rng.randrange(len(review))
        text = "".join(review[start:start + rng.choice((1, 1, 2, 2, 3))]).strip()[:80]
        if len(text) < 2 or text in seen:
            other = rng.choice(clauses)
            text = (text + rng.choice(other)).strip()[:80]
        if len(text) >= 2 and text not in seen:
            seen.add(text)
            yield text


def write_distinct_jsonl(path: Path, n: int, seed: int = 7) -> int:
    """The bulk file of `write_bulk_jsonl`, its text messages given fresh review texts."""
    raw = path.with_suffix(".sample.jsonl")
    count = write_bulk_jsonl(raw, n, seed=seed)
    rng = random.Random(seed)
    fresh = distinct_texts(review_clauses(), rng)
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    with raw.open(encoding="utf-8") as src, path.open("w", encoding="utf-8", newline="\n") as out:
        for line in src:
            obj = json.loads(line)
            if (obj.get("_type") == "message" and obj.get("type") == 0
                    and isinstance(obj.get("content"), str) and rng.random() < FRESH_SHARE):
                obj["content"] = next(fresh)
                line = dumps(obj) + "\n"
            out.write(line)
    raw.unlink()
    return count


def texts_of(path: Path) -> list[str]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            if obj.get("_type") == "message" and isinstance(obj.get("content"), str):
                out.append(obj["content"])
    return out


class Clock:
    """Wall time and this process's CPU time (user + system) of one run.

    The machine is shared: when neighbours keep its cores busy, wall time measures them too.
    CPU time is what the run itself consumed, so both are printed and ratios use both.
    """

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare_jieba(texts: list[str]) -> tuple[float, float]:
    import jieba

    tok = jieba.Tokenizer()
    tok.initialize()  # dictionary load is start-up, not throughput
    clock = Clock()
    for t in texts:
        tok.lcut(t)
    return clock.stop()


def bare_rjieba(texts: list[str]) -> tuple[float, float]:
    import rjieba

    rjieba.cut("预热")
    clock = Clock()
    for t in texts:
        rjieba.cut(t)
    return clock.stop()


def extract_tags_peer(texts: list[str]) -> tuple[float, float]:
    """The naive peer: jieba's TF-IDF keyword extraction called once per message."""
    import jieba
    import jieba.analyse

    jieba.initialize()
    jieba.analyse.extract_tags("预热一下关键词提取")  # loads the IDF table
    extract = jieba.analyse.extract_tags
    clock = Clock()
    for t in texts:
        extract(t)
    return clock.stop()


def machine() -> str:
    """Cores, load average and Python: the context every figure below needs."""
    try:
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load average n/a"
    return (f"machine: {platform.platform()}, {os.cpu_count()} cores, {load}, Python "
            f"{platform.python_version()} ({platform.python_implementation()})")


def siyu_ingest(data: Path, work: Path, workers: int, tag: str, root: Path | None = None
                ) -> tuple[tuple[float, float], dict[str, Any]]:
    """One `siyu ingest --workers N` into a fresh database: wall and CPU seconds (its own and
    its workers', which it waits for), and its JSON report. `root`: run that checkout's code
    instead of this one's (on PYTHONPATH, ahead of the installed package)."""
    db = work / f"bench-w{workers}-{tag}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg = work / "siyu-rjieba.toml"
    cfg.write_text('tokenizer = "rjieba"\n', encoding="utf-8")
    siyu = Path(sys.executable).parent / "siyu"
    cmd = [str(siyu), "--db", f"sqlite:///{db}", "--config", str(cfg), "ingest", str(data),
           "--json", "--workers", str(workers)]
    env = dict(os.environ, PYTHONPATH=str(root)) if root is not None else None
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    elapsed = (time.perf_counter() - start, children_cpu() - cpu)
    if proc.returncode != 0:
        raise SystemExit(f"siyu ingest --workers {workers} failed:\n{proc.stderr}")
    return elapsed, json.loads(proc.stdout)


def breakdown(data: Path, db: Path, workers: int) -> dict[str, Any]:
    """Where one `siyu ingest --workers N` spends its time, in-process (run in a fresh child).

    Wall-clock and CPU timers around the stages of the main process, not a profiler (which
    would triple the Python part): start-up (imports, lexicon, tokenizer dictionary, the
    worker pool, the database), reading the file into events (streamed into the ingest as the
    CLI does), analysis (normalise + tokenise + rules + the complaint model, distinct keys
    only; with workers, what is left to the main process), waiting for the workers' results
    (the main process idle: the workers are the slower side), storage (`Store.write_batch`:
    every SQL statement and commit of the batches), the tag rebuild (`refresh_stale_tags`),
    and the ingest loop's own bookkeeping (the rest). The workers' own CPU is reported apart.
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    from bot.app import App
    from bot.config import load_settings
    from bot.sources import open_source
    from handlers import ingest as ingest_mod
    from handlers import ingest_pool

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg = db.with_suffix(".toml")
    cfg.write_text('tokenizer = "rjieba"\n', encoding="utf-8")
    settings = load_settings(cfg, db=f"sqlite:///{db}")
    app = App(settings)
    analyzer = app.analyzer
    pool = ingest_pool.AnalysisPool(analyzer, workers) if workers > 1 else None
    store = app.store
    labels = app.labels
    names = ("analyse", "wait", "write_batch")
    spent = dict.fromkeys(names, 0.0)
    spent_cpu = dict.fromkeys(names, 0.0)
    counts = dict.fromkeys(names, 0)

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kw: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                spent[name] += time.perf_counter() - start
                spent_cpu[name] += time.process_time() - cpu
                counts[name] += 1
        return wrapper

    # After the fork: the workers run the analyser untimed; these time the main process.
    analyzer.analyse = timed("analyse", analyzer.analyse)  # type: ignore[method-assign]
    many = timed("analyse", analyzer.analyse_many)

    def analyse_many(keys: Any) -> Any:  # counted by key, as the pool's are
        counts["analyse"] += len(keys) - 1
        return many(keys)

    analyzer.analyse_many = analyse_many  # type: ignore[method-assign]
    store.write_batch = timed("write_batch", store.write_batch)  # type: ignore[method-assign]
    sent = 0
    real_submit = ingest_pool.AnalysisPool.submit
    if pool is not None:
        def submit(self: Any, keys: Any) -> Any:
            nonlocal sent
            sent += len(keys)
            return real_submit(self, keys)

        ingest_pool.AnalysisPool.submit = submit  # type: ignore[method-assign]
        ingest_pool.AnalysisJob.result = timed(  # type: ignore[method-assign]
            "wait", ingest_pool.AnalysisJob.result)
    ingestor = ingest_mod.Ingestor(store, analyzer, settings, labels, pool=pool)

    import gc

    # The reader alone first, over the same file (as the ingest runs it: no automatic GC),
    # so the ingest below is not slowed by a timer per item; its own time is then taken
    # out of the loop's.
    ts, cs = time.perf_counter(), time.process_time()  # start-up ends here
    gc.disable()
    for _item in open_source(data, "auto", tz=settings.tz):
        pass
    gc.enable()
    spent["read"] = time.perf_counter() - ts
    spent_cpu["read"] = time.process_time() - cs
    t1, c1 = time.perf_counter(), time.process_time()
    source = open_source(data, "auto", tz=settings.tz)
    report = ingestor.ingest(source)
    t3, c3 = time.perf_counter(), time.process_time()
    ingestor.finish(report)
    t4, c4 = time.perf_counter(), time.process_time()
    if pool is not None:
        pool.close()
    stages = {"start-up": (ts - t0, cs - c0), "read file → events": (spent["read"],
                                                                    spent_cpu["read"])}
    stages["analyse (distinct keys, this process)"] = (spent["analyse"], spent_cpu["analyse"])
    if pool is not None:
        stages["wait for the workers' results"] = (spent["wait"], spent_cpu["wait"])
    stages["SQL writes (write_batch)"] = (spent["write_batch"], spent_cpu["write_batch"])
    stages["ingest loop (rest)"] = (
        t3 - t1 - sum(spent[k] for k in ("read", *names)),
        c3 - c1 - sum(spent_cpu[k] for k in ("read", *names)))
    stages["tag rebuild (refresh_stale_tags)"] = (t4 - t3, c4 - c3)
    # Totals leave out the reader's extra pass: they are what one ingest took.
    return {"wall": {k: v[0] for k, v in stages.items()},
            "cpu": {k: v[1] for k, v in stages.items()},
            "total": (ts - t0) + (t4 - t1), "cpu_total": (cs - c0) + (c4 - c1),
            "workers_cpu": children_cpu(), "analysed": float(counts["analyse"] + sent)}


def breakdown_child(data: Path, db: Path, workers: int) -> dict[str, Any]:
    """`breakdown` in a fresh interpreter, so start-up is measured as a person meets it."""
    proc = subprocess.run([sys.executable, __file__, "--breakdown", str(data), str(db),
                           str(workers)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"breakdown failed (--workers {workers}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def floors(data: Path, work: Path, stored: Path, batch_size: int) -> dict[str, float]:
    """CPU seconds of the costs no `siyu ingest` that stores every message can avoid.

    Each is the bare operation with nothing of ours around it:
      - start-up: a fresh interpreter importing the app and building the lexicon, the
        analyser and the tokenizer dictionary (what every run pays before its first line);
      - reading the export's lines and parsing each with json.loads / orjson;
      - inserting the same message rows (read back from `stored`) into a fresh database made
        by our own schema code (same table, same four indexes, WAL, synchronous=NORMAL),
        through the bare sqlite3 driver, one executemany and commit per `batch_size` rows;
      - reading them all back in one table scan (what the tag rebuild reads).
    """
    out: dict[str, float] = {}
    cfg = work / "floor.toml"
    cfg.write_text('tokenizer = "rjieba"\n', encoding="utf-8")
    code = ("from bot.app import App; from bot.config import load_settings; "
            f"a = App(load_settings({str(cfg)!r}, db='sqlite://')); a.analyzer; a.store")
    cpu = children_cpu()
    subprocess.run([sys.executable, "-c", code], check=True)
    out["start-up: interpreter, imports, lexicon, tokenizer"] = children_cpu() - cpu

    import gc

    gc.disable()  # as the ingest runs (handlers/bulk.py: paused_gc)
    try:
        clock = Clock()
        with data.open(encoding="utf-8") as fh:
            lines = [line.strip() for line in fh]
        out["read the file's lines"] = clock.stop()[1]
        clock = Clock()
        for line in lines:
            json.loads(line)
        out["json.loads every line"] = clock.stop()[1]
        try:
            import orjson
        except ImportError:
            pass
        else:
            clock = Clock()
            for line in lines:
                orjson.loads(line)
            out["orjson.loads every line"] = clock.stop()[1]
        del lines

        from storage.db import open_database

        db = work / "floor.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        open_database(f"sqlite:///{db}").dispose()  # our schema, created as siyu does
        src = sqlite3.connect(stored)
        cols = "id, chat_id, member_pk, ts, type, text, signals, origin"
        rows = src.execute(f"SELECT {cols} FROM message ORDER BY rowid").fetchall()
        members = src.execute("SELECT * FROM member").fetchall()
        chats = src.execute("SELECT * FROM chat").fetchall()
        src.close()
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA cache_size=-65536")
        con.execute("BEGIN")
        con.executemany(f"INSERT INTO member VALUES ({', '.join('?' * len(members[0]))})",
                        members)
        con.executemany(f"INSERT INTO chat VALUES ({', '.join('?' * len(chats[0]))})", chats)
        con.execute("COMMIT")
        insert = f"INSERT INTO message ({cols}) VALUES ({', '.join('?' * 8)})"
        clock = Clock()
        for i in range(0, len(rows), batch_size):
            con.execute("BEGIN IMMEDIATE")
            con.executemany(insert, rows[i:i + batch_size])
            con.execute("COMMIT")
        out[f"sqlite3 insert of the {len(rows)} message rows, our schema"] = clock.stop()[1]
        del rows
        clock = Clock()
        con.execute("SELECT member_pk, id, ts, chat_id, type, signals FROM message").fetchall()
        out["sqlite3 read of them all back (one scan)"] = clock.stop()[1]
        con.close()
    finally:
        gc.enable()
    return out


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


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def print_breakdown(parts: dict[str, Any], workers: int) -> None:
    total, cpu_total = parts["total"], parts["cpu_total"]
    print(f"\nwhere siyu ingest --workers {workers} spends its time, one more in-process run "
          f"(timers, no profiler; {int(parts['analysed'])} distinct keys analysed; CPU is "
          "this process's user + system time, what a busy neighbour does not inflate):")
    print(f"  {'stage':40} {'wall s':>7} {'wall %':>7} {'CPU s':>7} {'CPU %':>7}")
    for name, secs in parts["wall"].items():
        cpu = parts["cpu"][name]
        print(f"  {name:40} {secs:7.2f} {100 * secs / total:6.1f}% {cpu:7.2f} "
              f"{100 * cpu / cpu_total:6.1f}%")
    print(f"  {'total (main process)':40} {total:7.2f} {'':7} {cpu_total:7.2f}")
    if workers > 1:
        print(f"  {'workers (CPU of all of them)':40} {'':7} {'':7} "
              f"{parts['workers_cpu']:7.2f}")


def ingest_rounds(data: Path, work: Path, n: int, rounds: int,
                  sides: list[tuple[str, Path | None]],
                  results: dict[str, tuple[tuple[float, float], int, str]]) -> None:
    """`siyu ingest --workers 1` and `2`, `rounds` times, each preceded by the same run of the
    other checkout (a side with a root); then whether what they stored agrees."""
    dbs: dict[int, Path] = {}
    before_dbs: dict[int, Path] = {}
    for rnd in range(1, rounds + 1):
        for workers in (1, 2):
            for side, root in sides:
                before = load()
                tag = f"{'before-' if root else ''}r{rnd}"
                elapsed, report = siyu_ingest(data, work, workers, tag, root)
                (before_dbs if root else dbs)[workers] = work / f"bench-w{workers}-{tag}.db"
                results[f"{side}siyu ingest --workers {workers} (r{rnd})"] = (elapsed, n,
                                                                              before)
                print(f"  {side}ingest --workers {workers} round {rnd}: new={report['new']} "
                      f"duplicate={report['duplicate']} self_skipped={report['self_skipped']} "
                      f"rejected={len(report['rejected'])} "
                      f"personas={report['personas_updated']}")

    same = tag_dump(dbs[1]) == tag_dump(dbs[2])
    print(f"  stored tags and signals, --workers 1 vs --workers 2: "
          f"{'identical' if same else 'MISMATCH'} ({len(tag_dump(dbs[2]))} rows)")
    if before_dbs:
        same = tag_dump(before_dbs[1]) == tag_dump(dbs[1])
        print(f"  stored tags and signals, before vs this checkout (--workers 1): "
              f"{'identical' if same else 'MISMATCH'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternating --workers 1 / --workers 2 runs (ratios per round)")
    ap.add_argument("--keep", type=Path, help="write data and databases here and keep them")
    ap.add_argument("--before", type=Path, metavar="CHECKOUT",
                    help="also time `siyu ingest` of another checkout (e.g. a worktree of main) "
                         "in each round, beside this one, and compare what the two store")
    ap.add_argument("--floors", nargs=2, metavar=("DATA", "STORED_DB"),
                    help="only measure the floors, against a database an ingest made")
    ap.add_argument("--breakdown", nargs=3, metavar=("DATA", "DB", "WORKERS"),
                    help=argparse.SUPPRESS)  # the child of breakdown_child
    args = ap.parse_args()
    if args.breakdown:
        data_arg, db_arg, workers_arg = args.breakdown
        print(json.dumps(breakdown(Path(data_arg), Path(db_arg), int(workers_arg))))
        return 0

    from handlers.settings import Settings

    if args.floors:
        work = Path(tempfile.mkdtemp(prefix="siyu-floors-"))
        for name, secs in floors(Path(args.floors[0]), work, Path(args.floors[1]),
                                 Settings().batch_size).items():
            print(f"  {name:56} {secs:6.2f} s")
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="siyu-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "bulk.jsonl"
    t0 = time.perf_counter()
    n = write_distinct_jsonl(data, args.messages)
    gen = time.perf_counter() - t0
    texts = texts_of(data)
    chars = sum(len(t) for t in texts)

    distinct = len(set(texts))
    print(machine())
    print(f"data: {n} messages ({len(texts)} with text, mean {chars / max(1, len(texts)):.1f} "
          f"chars, {distinct} distinct texts = {100 * distinct / max(1, len(texts)):.1f} % "
          f"distinct), generated in {gen:.1f}s → {data}")

    results: dict[str, tuple[tuple[float, float], int, str]] = {}
    for name, fn in (("bare jieba.lcut loop", bare_jieba), ("bare rjieba.cut loop", bare_rjieba),
                     ("peer: extract_tags per message", extract_tags_peer)):
        before = load()
        results[name] = (fn(texts), len(texts), before)
    sides: list[tuple[str, Path | None]] = [("", None)]
    if args.before:
        sides = [("before: ", args.before.resolve()), *sides]
    ingest_rounds(data, work, n, args.rounds, sides, results)

    def rates(name: str) -> tuple[float, float]:
        (wall, cpu), count, _ = results[name]
        return count / wall, count / cpu

    floor = rates("bare rjieba.cut loop")
    peer = rates("peer: extract_tags per message")
    print()
    print(f"{'run':42} {'load':>5} {'wall s':>7} {'cpu s':>7} {'msgs/s':>8} {'msgs/cpu-s':>10} "
          f"{'÷ rjieba':>9} {'÷ peer':>7} {'÷ peer cpu':>10}")
    for name, ((wall, cpu), _count, before) in results.items():
        rate, cpu_rate = rates(name)
        print(f"{name:42} {before:>5} {wall:7.2f} {cpu:7.2f} {rate:8.0f} {cpu_rate:10.0f} "
              f"{rate / floor[0]:9.3f} {rate / peer[0]:7.2f} {cpu_rate / peer[1]:10.2f}")
    for rnd in range(1, args.rounds + 1):
        for side, _root in sides:
            w1, w2 = (results[f"{side}siyu ingest --workers {w} (r{rnd})"][0][0]
                      for w in (1, 2))
            print(f"{side}round {rnd}: --workers 2 is {w1 / w2:.2f}× --workers 1 (wall)")
    print(f"\ntarget (issue 18): siyu ingest ≥ 4× the peer, i.e. {n} messages in "
          f"{n / (4 * peer[0]):.2f} s wall at this run's peer rate")
    print("÷ peer compares wall time; ÷ peer cpu compares CPU seconds (the workers' included), "
          "so a parallel run can be faster in wall time and dearer in CPU")
    print(machine().replace("machine:", "machine after the runs:"))
    for workers in (1, 2):
        print_breakdown(breakdown_child(data, work / f"breakdown-w{workers}.db", workers),
                        workers)
    print("\nfloors: CPU of the bare operations any ingest that stores every message pays "
          "(scripts/bench_ingest.py: floors):")
    for name, secs in floors(data, work, work / "breakdown-w1.db", Settings().batch_size).items():
        print(f"  {name:56} {secs:6.2f} s")
    print("\n(siyu ingest times include process start-up, dictionary load, SQLite writes and "
          "persona tag rebuild.)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
