"""Time and memory of relearning (handlers/learn.py: relearn) on an existing database.

    python scripts/bench_relearn.py DB [--compare-ref REF] [--repeat 2]

Issue 18, item 1: relearning at the end of an import held every message (docs/performance.md,
"Memory"). Each run is a fresh child process on a copy of DB (SQLite) with the stored learned
set removed, so `relearn` learns, stores and marks as after a first import: the child prints
the wall and CPU time of each `relearn` (the second finds its own set stored: the re-import
case) and its high-water mark before and after. `--compare-ref REF` runs the same on a
detached worktree of REF (e.g. main), in the same run. Not a test: the figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import resource, sys, time
from sqlalchemy import delete
from bot.app import App
from bot.config import load_settings
from handlers.learn import relearn
from storage.db import META
from storage.learned import AS_OF_KEY
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
app = App(load_settings(db=f"sqlite:///{sys.argv[1]}"))
with app.store.engine.begin() as conn:
    conn.execute(delete(META).where(META.c.key == AS_OF_KEY))
marks = [f"start {peak()} MiB"]
for i in range(int(sys.argv[2])):
    wall, cpu = time.perf_counter(), time.process_time()
    out = relearn(app.store, app.settings)
    marks.append(f"relearn {i + 1}: {time.perf_counter() - wall:.1f} s wall, "
                 f"{time.process_time() - cpu:.1f} s CPU, peak {peak()} MiB "
                 f"({out.words} words, {out.marked} marked)")
print("; ".join(marks))
"""


def run(tree: Path, db: Path, work: Path, repeat: int) -> str:
    copy = work / "relearn.db"
    shutil.copyfile(db, copy)
    done = subprocess.run([sys.executable, "-c", CHILD, str(copy), str(repeat)],
                          env={**os.environ, "PYTHONPATH": str(tree)},
                          capture_output=True, text=True, cwd=work, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="an SQLite database file (left as it is)")
    parser.add_argument("--compare-ref", metavar="REF")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="siyu-relearn-"))
    trees = [("this tree", ROOT)]
    if args.compare_ref:
        ref = work / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(ref),
                        args.compare_ref], check=True, capture_output=True)
        trees.append((args.compare_ref, ref))
    try:
        for name, tree in trees:
            print(f"{name}: {run(tree, args.db, work, args.repeat)}", flush=True)
    finally:
        if args.compare_ref:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(work / "ref")], check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
