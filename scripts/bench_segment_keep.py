"""Stored runs with and without `[segment] keep_runs`: database size and store time per run.

    python scripts/bench_segment_keep.py --members 10000 [--runs 8] [--keep 2]
                                         [--db-dir /tmp/siyu-bench] [--seed 7]

The community is the SQLite file `scripts/bench_segment.py --source db --build-db N` keeps in
`--db-dir`. Two copies of it get `--runs` segmentation runs each (`run_and_store`, an hour of
as-of apart, as the bot's job makes them): one with `keep_runs = --keep`, one keeping every run
(as the code before keep_runs did). After each run the script prints the member rows stored,
the file's size (after a WAL checkpoint) and the time of the store and of the prune. The two
copies alternate run by run, so the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db-dir", type=Path, default=Path("/tmp/siyu-bench"))
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--keep", type=int, default=2)
    args = ap.parse_args(argv)

    from sample_community import SAMPLE_NOW

    import handlers.segments as segments
    import storage.segments as stored
    from bot.app import App
    from handlers.settings import Settings

    source = args.db_dir / f"segment-{args.members}-{args.seed}.db"
    if not source.exists():
        ap.error(f"{source} is missing: build it with scripts/bench_segment.py --source db "
                 f"--build-db {args.members} --db-dir {args.db_dir}")
    work = Path(tempfile.mkdtemp(prefix="siyu-bench-keep-"))
    times: dict[str, float] = {}
    real_store, real_prune = segments.store_result, stored.SegmentStore.prune

    def store(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return real_store(*a, **k)
        finally:
            times["store"] = time.perf_counter() - t

    def prune(self: Any, *a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return real_prune(self, *a, **k)
        finally:
            times["prune"] = time.perf_counter() - t

    segments.store_result = store  # type: ignore[assignment]
    stored.SegmentStore.prune = prune  # type: ignore[method-assign]
    try:
        apps = {}
        for name, keep in (("keep", args.keep), ("all", 10**9)):
            path = work / f"{name}.db"
            shutil.copy(source, path)
            settings = Settings(db=f"sqlite:///{path}",
                                sections={"segment": {"keep_runs": keep}})
            apps[name] = (App(settings), settings, path)
        print(f"load {os.getloadavg()[0]:.2f}; {args.members} members; keep_runs = {args.keep} "
              f"against every run kept")
        print(f"{'run':>4} {'copy':>5} {'member rows':>12} {'file MB':>8} {'store s':>8} "
              f"{'prune s':>8} {'run s':>7}")
        for i in range(args.runs):
            for name, (app, settings, path) in apps.items():
                times.clear()
                t0 = time.perf_counter()
                segments.run_and_store(app.store, settings, app.labels,
                                       SAMPLE_NOW + timedelta(hours=i))
                took = time.perf_counter() - t0
                app.store.engine.dispose()
                con = sqlite3.connect(path)
                try:
                    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    rows = con.execute("SELECT count(*) FROM member_segment").fetchone()[0]
                finally:
                    con.close()
                print(f"{i + 1:4d} {name:>5} {rows:12d} {path.stat().st_size / 2**20:8.1f} "
                      f"{times.get('store', 0):8.2f} {times.get('prune', 0):8.2f} {took:7.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
