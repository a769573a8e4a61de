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
  Stage times come from wrapping what `run_and_store` calls (`STAGES` of
  scripts/bench_segment_run.py, whose child this is: the read, the previous run read back,
  tabulate, segment with the cards' text reads inside it, the store with the rows' save
  inside it, the prune), so a gap between the backends shows where it is.
  On PostgreSQL the child also reads its server backends' CPU time and peak RSS from /proc
  (the server runs on this machine; parallel query workers, gone by then, are not counted;
  a backend's RSS includes the shared buffers it touched).
* Both backends take the columnar path (`storage/segment_inputs.py`); the segment counts of
  the two runs are compared.

The machine is shared and noisy: compare the ratios of one run of this script.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_segment_run import header, row, run_child  # noqa: E402


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


def drop_database(admin: Any, name: str) -> None:
    """tests/pg.py's DROP … WITH (FORCE), retried longer: after a 100k copy the server's own
    autovacuum worker can stay in the new database for seconds."""
    from tests.pg import drop_database as drop

    drop(admin, name, tries=80)


def alternate(path: Path, pg_url: str, rounds: int, timeout: float) -> None:
    """The runs, SQLite and PostgreSQL alternating, printed as they end; then the ratio of
    the best totals and whether the segment counts agree. Each backend's first run stores a
    run, later ones compare with it."""
    from sample_community import SAMPLE_NOW

    print(header())
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
            print(row(backend, r, res, os.getloadavg()[0]), flush=True)
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
    args = ap.parse_args(argv)
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
