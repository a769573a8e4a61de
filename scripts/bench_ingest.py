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
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def siyu_ingest(data: Path, work: Path, tokenizer: str
                ) -> tuple[tuple[float, float], dict[str, Any]]:
    db = work / f"bench-{tokenizer}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg = work / f"siyu-{tokenizer}.toml"
    cfg.write_text(f'tokenizer = "{tokenizer}"\n', encoding="utf-8")
    siyu = Path(sys.executable).parent / "siyu"
    cmd = [str(siyu), "--db", f"sqlite:///{db}", "--config", str(cfg), "ingest", str(data),
           "--json"]
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = (time.perf_counter() - start, children_cpu() - cpu)
    if proc.returncode != 0:
        raise SystemExit(f"siyu ingest failed ({tokenizer}):\n{proc.stderr}")
    return elapsed, json.loads(proc.stdout)


def breakdown(data: Path, db: Path, tokenizer: str) -> dict[str, Any]:
    """Where one `siyu ingest` spends its time, in-process (run in a fresh child).

    Wall-clock and CPU timers around the stages, not a profiler (which would triple the
    Python part): start-up (imports, database, lexicon, tokenizer dictionary), reading the
    file into events (streamed into the ingest as the CLI does), analysis (normalise +
    tokenise + rules; the cache means distinct texts only), storage (`Store.write_batch`:
    every SQL statement and commit of the batches), the tag rebuild (`refresh_stale_tags`:
    reading signals back, `build_persona`, writing tags), and the ingest loop's own
    bookkeeping (the rest).
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    from bot.app import App
    from bot.config import load_settings
    from bot.sources import open_source
    from handlers import ingest as ingest_mod

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg = db.with_suffix(".toml")
    cfg.write_text(f'tokenizer = "{tokenizer}"\n', encoding="utf-8")
    settings = load_settings(cfg, db=f"sqlite:///{db}")
    app = App(settings)
    analyzer = app.analyzer
    store = app.store
    labels = app.labels
    spent = {"analyse": 0.0, "write_batch": 0.0}
    spent_cpu = {"analyse": 0.0, "write_batch": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kw: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                spent[name] += time.perf_counter() - start
                spent_cpu[name] += time.process_time() - cpu
        return wrapper

    analyzer.analyse = timed("analyse", analyzer.analyse)  # type: ignore[method-assign]
    store.write_batch = timed("write_batch", store.write_batch)  # type: ignore[method-assign]
    ingestor = ingest_mod.Ingestor(store, analyzer, settings, labels)

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
    wall = {"start-up": ts - t0, "read file → events": spent["read"],
            "analyse (distinct texts)": spent["analyse"], "SQL writes (write_batch)":
            spent["write_batch"], "ingest loop (rest)": t3 - t1 - spent["read"] -
            spent["analyse"] - spent["write_batch"], "tag rebuild (refresh_stale_tags)": t4 - t3}
    cpu = {"start-up": cs - c0, "read file → events": spent_cpu["read"],
           "analyse (distinct texts)": spent_cpu["analyse"], "SQL writes (write_batch)":
           spent_cpu["write_batch"], "ingest loop (rest)": c3 - c1 - spent_cpu["read"] -
           spent_cpu["analyse"] - spent_cpu["write_batch"],
           "tag rebuild (refresh_stale_tags)": c4 - c3}
    # Totals leave out the reader's extra pass: they are what one ingest took.
    return {"wall": wall, "cpu": cpu, "total": (ts - t0) + (t4 - t1),
            "cpu_total": (cs - c0) + (c4 - c1),
            "analysed": float(len(ingestor._analysed))}


def breakdown_child(data: Path, db: Path, tokenizer: str) -> dict[str, Any]:
    """`breakdown` in a fresh interpreter, so start-up is measured as a person meets it."""
    proc = subprocess.run([sys.executable, __file__, "--breakdown", str(data), str(db),
                           tokenizer], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"breakdown failed ({tokenizer}):\n{proc.stderr}")
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="write data and databases here and keep them")
    ap.add_argument("--floors", nargs=2, metavar=("DATA", "STORED_DB"),
                    help="only measure the floors, against a database an ingest made")
    ap.add_argument("--breakdown", nargs=3, metavar=("DATA", "DB", "TOKENIZER"),
                    help=argparse.SUPPRESS)  # the child of breakdown_child
    args = ap.parse_args()
    if args.breakdown:
        data_arg, db_arg, tok_arg = args.breakdown
        print(json.dumps(breakdown(Path(data_arg), Path(db_arg), tok_arg)))
        return 0

    if args.floors:
        from handlers.settings import Settings

        work = Path(tempfile.mkdtemp(prefix="siyu-floors-"))
        for name, secs in floors(Path(args.floors[0]), work, Path(args.floors[1]),
                                 Settings().batch_size).items():
            print(f"  {name:56} {secs:6.2f} s")
        return 0
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

    results: dict[str, tuple[tuple[float, float], int]] = {}
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

    def rates(name: str) -> tuple[float, float]:
        (wall, cpu), count = results[name]
        return count / wall, count / cpu

    floor = rates("bare rjieba.cut loop")
    peer = rates("peer: extract_tags per message")
    print()
    print(f"{'run':32} {'wall s':>7} {'cpu s':>7} {'msgs/s':>8} {'msgs/cpu-s':>10} "
          f"{'÷ rjieba':>9} {'÷ peer':>7} {'÷ rjieba cpu':>12} {'÷ peer cpu':>10}")
    for name, ((wall, cpu), _count) in results.items():
        rate, cpu_rate = rates(name)
        print(f"{name:32} {wall:7.2f} {cpu:7.2f} {rate:8.0f} {cpu_rate:10.0f} "
              f"{rate / floor[0]:9.3f} {rate / peer[0]:7.2f} {cpu_rate / floor[1]:12.3f} "
              f"{cpu_rate / peer[1]:10.2f}")
    print("\ntargets: siyu ingest (rjieba) ≥ 10× the peer and ≥ 0.3× the bare rjieba loop")
    print(machine().replace("machine:", "machine after the runs:"))
    parts = breakdown_child(data, work / "breakdown.db", "rjieba")
    total, cpu_total = parts["total"], parts["cpu_total"]
    print(f"\nwhere siyu ingest (rjieba) spends its time, one more in-process run "
          f"(timers, no profiler; {int(parts['analysed'])} distinct texts analysed; CPU is "
          "this process's user + system time, what a busy neighbour does not inflate):")
    print(f"  {'stage':36} {'wall s':>7} {'wall %':>7} {'CPU s':>7} {'CPU %':>7}")
    for name, secs in parts["wall"].items():
        cpu = parts["cpu"][name]
        print(f"  {name:36} {secs:7.2f} {100 * secs / total:6.1f}% {cpu:7.2f} "
              f"{100 * cpu / cpu_total:6.1f}%")
    print(f"  {'total':36} {total:7.2f} {'':7} {cpu_total:7.2f}  (the rest of the wall time "
          "the process waited for a core or the disk)")
    print("\nfloors: CPU of the bare operations any ingest that stores every message pays "
          "(scripts/bench_ingest.py: floors):")
    from handlers.settings import Settings

    for name, secs in floors(data, work, work / "breakdown.db", Settings().batch_size).items():
        print(f"  {name:56} {secs:6.2f} s")
    print("\n(siyu ingest times include process start-up, dictionary load, SQLite writes and "
          "persona tag rebuild.)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
