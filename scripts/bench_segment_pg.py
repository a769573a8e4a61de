"""Segmentation on PostgreSQL against SQLite: the same stored community, the product's run.

    python scripts/bench_segment_pg.py --members 10000 --pg URL [--rounds 2]
                                       [--db-dir /tmp/siyu-bench] [--seed 7]

Why this shape:
* The community is the one `scripts/bench_segment.py --source db` builds into a SQLite file
  (`--build-db N`, kept in `--db-dir`); it is copied table by table into a fresh PostgreSQL
  database on the server `--pg` names (created here, dropped at the end; the schema is the
  product's own, made by `open_database`'s migrations) with COPY, in rowid order (so the
  insertion order both backends break ties by is the same), then VACUUM ANALYZE'd, so both
  backends hold the same rows, the kept tables (member_keywords, member_activity,
  member_tags) included.
* Each measured run is `handlers/segments.py: run_and_store` as the bot and `siyu segment`
  call it (read, segment, store, prune), in a child process of its own so its peak RSS is its
  own; the SQLite and PostgreSQL runs alternate, so a neighbour's load falls on both alike.
  Stage times come from wrapping what `run_and_store` calls (`STAGES`: the read, the previous
  run read back, tabulate, segment with the cards' text reads inside it, the store with the
  rows' save inside it, the prune), so a gap between the backends shows where it is.
  On PostgreSQL the child also reads its server backends' CPU time and peak RSS from /proc
  (the server runs on this machine; parallel query workers, gone by then, are not counted;
  a backend's RSS includes the shared buffers it touched).
* Both backends take the columnar path (`storage/segment_inputs.py`); the segment counts of
  the two runs are compared.

The machine is shared and noisy: compare the ratios of one run of this script.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

RESULT_PREFIX = "RESULT "


def copy_to_postgres(sqlite_path: Path, url: str) -> dict[str, int]:
    """Every table's rows from the SQLite file into the (empty, migrated) database at `url`
    with COPY, parents first, each in rowid order; each serial id's sequence moved past the
    copied ids; then VACUUM ANALYZE, as a database long in use would have its statistics."""
    import sqlite3

    import psycopg
    from sqlmodel import SQLModel

    from storage.db import open_database, register_tables

    register_tables()
    open_database(url).dispose()  # the product's schema, by its migrations
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    counts: dict[str, int] = {}
    try:
        with psycopg.connect(dsn) as dst:
            dst.execute("SET TIME ZONE 'UTC'")  # SQLite holds times as naive UTC text
            for table in SQLModel.metadata.sorted_tables:
                name = f'"{table.name}"'
                # the database's own rows (schema version, keys) are kept
                row = dst.execute(f"SELECT count(*) FROM {name}").fetchone()
                if row is None or row[0]:
                    continue
                cols = ", ".join(f'"{c.name}"' for c in table.c)
                n = 0
                with dst.cursor().copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                    for values in src.execute(f"SELECT {cols} FROM {name} ORDER BY rowid"):
                        copy.write_row(values)
                        n += 1
                counts[table.name] = n
                if n and "id" in table.c and table.c.id.type.python_type is int:
                    dst.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                                f"(SELECT max(id) FROM {name}))", (name,))
        with psycopg.connect(dsn, autocommit=True) as dst:
            dst.execute("VACUUM ANALYZE")
    finally:
        src.close()
    return counts


def server_usage(engine: Any) -> dict[str, float]:
    """CPU seconds and summed peak RSS of this database's client backends (from /proc: the
    server runs on this machine), read before the pool's connections close."""
    from sqlalchemy import text

    with engine.connect() as conn:
        pids = conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend'")).scalars().all()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = hwm = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm += int(line.split()[1]) / 1024
        except OSError:
            continue
    return {"server_cpu_s": cpu, "server_rss_mb": hwm, "backends": len(pids)}


# Stages of `run_and_store` timed by wrapping what it calls: (owner, attribute, stage).
# "cards" (the sampled members' text parts) runs inside "segment", "save" (the run's row and
# member rows) inside "store" (which also builds and serialises the stored document).
STAGES = (("handlers.segments", "gather_columns", "read"),
          ("storage.segments:SegmentStore", "result_of", "previous"),
          ("handlers.segments", "tabulate", "tabulate"),
          ("handlers.segments", "run_segmentation", "segment"),
          ("storage.segment_inputs:ColumnReader", "details", "cards"),
          ("handlers.segments", "store_result", "store"),
          ("storage.segments:SegmentStore", "save_run", "save"),
          ("storage.segments:SegmentStore", "prune", "prune"))


def _time_stages(out: dict[str, Any]) -> None:
    """Wrap each of STAGES so its seconds add up in `out[stage + "_s"]`, and the peak RSS at
    its end is `out["peak_after_" + stage + "_mb"]` (a child process: nothing is undone)."""
    import importlib

    for owner, attr, stage in STAGES:
        module, _, cls = owner.partition(":")
        target: Any = importlib.import_module(module)
        if cls:
            target = getattr(target, cls)
        real = getattr(target, attr)

        def timed(*args: Any, _real: Any = real, _key: str = f"{stage}_s", **kwargs: Any
                  ) -> Any:
            t = time.perf_counter()
            try:
                return _real(*args, **kwargs)
            finally:
                out[_key] = out.get(_key, 0.0) + time.perf_counter() - t
                # the process's peak so far: the first stage after which it jumps made it
                out[f"peak_after_{_key[:-2]}_mb"] = (
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

        setattr(target, attr, timed)


def child(url: str, as_of: str) -> dict[str, Any]:
    """One `run_and_store`, stage by stage; times and peak RSS."""
    from datetime import datetime

    import handlers.segments as segments
    from bot.app import App
    from handlers.settings import Settings

    out: dict[str, Any] = {}
    _time_stages(out)
    settings = Settings(db=url)
    app = App(settings)
    _ = app.store, app.labels
    t0 = time.perf_counter()
    c0 = time.process_time()
    outcome = segments.run_and_store(app.store, settings, app.labels,
                                     datetime.fromisoformat(as_of))
    out["total_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    out["members"] = len(outcome.result.member_ids)
    out["counts"] = outcome.result.counts()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if app.store.engine.dialect.name == "postgresql":
        out.update(server_usage(app.store.engine))
    app.store.engine.dispose()
    return out


def run_child(url: str, as_of: str, timeout: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", url, "--as-of", as_of],
                          capture_output=True, text=True, timeout=timeout, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    return {"error": (proc.stderr.strip().splitlines() or ["no result"])[-1]}


def drop_database(admin: Any, name: str) -> None:
    """tests/pg.py's DROP … WITH (FORCE), retried longer: after a 100k copy the server's own
    autovacuum worker can stay in the new database for seconds."""
    from tests.pg import drop_database as drop

    drop(admin, name, tries=80)


def _row(backend: str, r: int, res: dict[str, Any], load: float) -> str:
    """One run's line of the table, and under it the peak RSS after each stage."""
    line = (f"{backend:10} {r:5d} "
            + " ".join(f"{res.get(f'{stage}_s', 0):8.2f}" for _, _, stage in STAGES)
            + f" {res['total_s']:8.2f} {res['cpu_s']:7.2f} {res['peak_rss_mb']:12.0f} "
            f"{load:5.2f}"
            + (f" {res['server_cpu_s']:12.2f} {res['server_rss_mb']:13.0f}"
               if "server_cpu_s" in res else ""))
    peaks = ", ".join(f"{stage} {res[f'peak_after_{stage}_mb']:.0f}" for _, _, stage in STAGES
                      if f"peak_after_{stage}_mb" in res)
    return f"{line}\n    peak RSS MB after: {peaks}"


def alternate(path: Path, pg_url: str, rounds: int, timeout: float) -> None:
    """The runs, SQLite and PostgreSQL alternating, printed as they end; then the ratio of
    the best totals and whether the segment counts agree. Each backend's first run stores a
    run, later ones compare with it."""
    from sample_community import SAMPLE_NOW

    print(f"{'backend':10} {'round':>5} " + " ".join(f"{stage:>8}" for _, _, stage in STAGES)
          + f" {'total s':>8} {'CPU s':>7} {'peak RSS MB':>12} {'load':>5} "
          f"{'server CPU s':>12} {'server RSS MB':>13}")
    totals: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    docs: dict[str, Any] = {}
    for r in range(1, rounds + 1):
        for backend, url in (("sqlite", f"sqlite:///{path}"), ("postgresql", pg_url)):
            res = run_child(url, SAMPLE_NOW.isoformat(), timeout)
            if "error" in res:
                print(f"{backend:10} {r:5d} error: {res['error']}")
                continue
            totals[backend].append(res["total_s"])
            docs.setdefault(backend, res["counts"])
            print(_row(backend, r, res, os.getloadavg()[0]), flush=True)
    if totals["sqlite"] and totals["postgresql"]:
        ratio = min(totals["postgresql"]) / min(totals["sqlite"])
        print(f"PostgreSQL ÷ SQLite, best runs: {ratio:.2f}×; segment counts "
              f"{'equal' if docs['sqlite'] == docs['postgresql'] else 'DIFFER'}")
        for dim in sorted(set(docs["sqlite"]) | set(docs["postgresql"])):
            a, b = docs["sqlite"].get(dim), docs["postgresql"].get(dim)
            if a != b:
                print(f"  {dim}: SQLite {a} / PostgreSQL {b}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db-dir", type=Path, default=Path("/tmp/siyu-bench"))
    ap.add_argument("--pg", help="a PostgreSQL URL whose role may create databases")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep-as", metavar="NAME",
                    help="copy into database NAME and keep it, or run on it as it is when it "
                         "exists already (a 1M copy takes many minutes); without it a fresh "
                         "database is made and dropped")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--as-of", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(RESULT_PREFIX + json.dumps(child(args.child, args.as_of), ensure_ascii=False))
        return 0
    if not args.pg:
        ap.error("--pg URL is required")

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    path = args.db_dir / f"segment-{args.members}-{args.seed}.db"
    if not path.exists():
        ap.error(f"{path} is missing: build it with scripts/bench_segment.py --source db "
                 f"--build-db {args.members} --db-dir {args.db_dir}")
    print(f"load {os.getloadavg()[0]:.2f}; {path} ({path.stat().st_size / 2**20:.0f} MB)")
    name = args.keep_as or f"siyu_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": name}).first() is not None
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    pg_url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    try:
        if exists:
            print(f"reusing database {name} as it is (copied before, runs stored since kept)")
        else:
            t0 = time.perf_counter()
            try:
                counts = copy_to_postgres(path, pg_url)
            except BaseException:
                args.keep_as = None  # a half copy is never reused: dropped below
                raise
            print(f"copied into PostgreSQL in {time.perf_counter() - t0:.0f}s: "
                  + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
        alternate(path, pg_url, args.rounds, args.timeout)
    finally:
        if args.keep_as:
            print(f"kept database {name}")
        else:
            drop_database(admin, name)
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
