"""Peak memory of reading and of ingesting one big single-line ChatLab JSON document.

    python scripts/bench_memory.py [--mb 44] [--keep DIR] [--compare-ref REF] [--skip-ingest]
                                   [--breakdown]

Issue 18: "a 44 MB single-line ChatLab JSON peaked at 836 MB — stream it, ≤ 4× the file
size". This builds such a file (one line, no indentation: the shape a minified export has and
the one where line numbers cannot name a message) of sample-community chat
(scripts/sample_community.py) whose text messages carry real review sentences
(scripts/review_corpus.py), so the texts are real-length and almost all distinct — the case
that fills the ingest's analysis cache. Then, each in a fresh child process, side by side:

  1. reader: `open_source` + iterating every item, nothing stored (the sources alone);
  2. `siyu ingest` of the file into a fresh SQLite database, as an operator runs it;
  3. the same two on a tiny file of the same shape: the floor every run pays (interpreter,
     imports, lexicon, tokenizer dictionary, database).

Peak RSS is the kernel's high-water mark of the child (`wait4` rusage, ru_maxrss) and, when
the code under test starts worker processes, the summed RSS of the child's process tree
sampled every 20 ms. Linux carries a process's high-water mark across fork and exec, so the
children are started while this script is small: the file is built, and its tiny copy cut,
in a child of their own (`--build`). `--compare-ref REF` runs the same children on a
detached git worktree of REF (e.g. main) with this interpreter, so the two codes are measured
in one run. `--breakdown` then runs this tree's ingest step by step three times (the analysis
cache limit, the batch size and the tag rebuild's chunk as they are and smaller), printing
the high-water mark of start-up, of the messages, of relearning and of the tag rebuild. Not a
timed test: the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

MB = 1024 * 1024

# The child that reads a file through the sources and stores nothing.
READER = """
import sys
from pathlib import Path
from bot.sources import open_source
source = open_source(Path(sys.argv[1]))
count = sum(1 for _ in source)
print(f"{count} items (total {source.total})")
"""
# The child that runs the CLI exactly as `siyu` does.
CLI = "import sys; from bot.cli import main; sys.argv[0] = 'siyu'; sys.exit(main())"
# `siyu ingest`'s steps in-process (one process, no analysis pool), the high-water mark after
# each: where the memory goes, with the ingest's analysis cache and batch size, and the tag
# rebuild's chunk and decoded-document limits, as given (0: as they are). The mark is reset
# (/proc/self/clear_refs) before relearning and before the rebuild, so each shows its own
# peak; `Ingestor.finish` runs exactly these two.
PHASES = """
import dataclasses, sys
from pathlib import Path
import handlers.ingest as ingest
import handlers.personas as personas
from bot.app import App
from bot.config import load_settings
from bot.sources import open_source
from handlers.learn import relearn
path, db = sys.argv[1], sys.argv[2]
cache, batch, chunk, decoded = (int(a) for a in sys.argv[3:7])
if cache:
    ingest.ANALYSIS_CACHE_SIZE = cache
if chunk:
    personas.REBUILD_CHUNK_MESSAGES = chunk
if decoded:
    personas.DECODED_MAX = decoded
settings = load_settings(db=db)
if batch:
    settings = dataclasses.replace(settings, batch_size=batch)
def mark(reset=False):
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    hwm = int(status["VmHWM"].split()[0]) // 1024
    if reset:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    return hwm
app = App(settings)
ingestor = ingest.Ingestor(app.store, app.analyzer, settings, app.labels)
marks = [f"start-up {mark()}"]
report = ingestor.ingest(open_source(Path(path)))
marks.append(f"read+analyse+store {mark(reset=True)}")
relearn(app.store, settings)
marks.append(f"relearn {mark(reset=True)}")
personas.refresh_stale_tags(app.store, settings, app.labels)
marks.append(f"tag rebuild {mark()}")
print(f"batch {settings.batch_size}, cache {ingest.ANALYSIS_CACHE_SIZE}, rebuild chunk "
      f"{personas.REBUILD_CHUNK_MESSAGES}, decoded {personas.DECODED_MAX}: "
      + ", ".join(marks) + f" MiB; new {report.new}")
"""


def build(path: Path, target_mb: float, seed: int = 7) -> int:
    """Write a single-line ChatLab JSON of about `target_mb` MiB; returns its message count.

    Members come first and meta last (ChatLab allows any key order), so a reader that needs
    the chat's meta before its messages has to find it in a pass of its own.
    """
    from review_corpus import load_reviews
    from sample_community import BULK_GROUP_NAME, _bulk_setup, _member_entry, iter_bulk_messages

    reviews = [r.text for r in load_reviews()]
    _, roster, _ = _bulk_setup(seed, 2000, 365)
    target = int(target_mb * MB)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write('{"chatlab":{"version":"0.0.2","exportedAt":1763640000},"members":[')
        fh.write(",".join(dumps(_member_entry(m, True)) for m in roster))
        fh.write('],"messages":[')
        written = fh.tell()
        # More than enough messages; stop at the target size.
        for msg in iter_bulk_messages(int(target / 150), seed=seed, members=2000):
            msg.pop("_type", None)
            if msg.get("type") == 0 and isinstance(msg.get("content"), str):
                msg["content"] = f"{msg['content']} {reviews[count % len(reviews)]}"
            text = dumps(msg)
            fh.write(("," if count else "") + text)
            written += len(text.encode("utf-8")) + 1
            count += 1
            if written >= target:
                break
        meta = {"name": BULK_GROUP_NAME, "platform": "wechat", "type": "group",
                "groupId": f"bench-memory-{seed}@chatroom"}
        fh.write('],"meta":' + dumps(meta) + "}")
    return count


def tiny_copy(big: Path, tiny: Path, keep: int = 20) -> None:
    """The same document shape with only the first `keep` messages (the start-up floor)."""
    doc = json.loads(big.read_text(encoding="utf-8"))
    doc["messages"] = doc["messages"][:keep]
    tiny.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8")


@dataclass
class Run:
    label: str
    peak_mb: float  # ru_maxrss of the child
    tree_mb: float  # summed RSS of the child's process tree, sampled
    wall: float
    cpu: float
    out: str


def _tree_rss(pid: int) -> int:
    """KiB resident in `pid` and every descendant (from /proc; 0 once they are gone)."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{p}/task/{p}/children", encoding="ascii") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_child(label: str, code: str, args: list[str], tree: Path, cwd: Path) -> Run:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    # Output to files, not pipes: the child is reaped with wait4 (for its rusage), which
    # subprocess' own pipe reading would race.
    out_path = Path(tempfile.mkstemp(prefix="child-", suffix=".out", dir=cwd)[1])
    err_path = out_path.with_suffix(".err")
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                                stdout=out, stderr=err, text=True)
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.wait(0.02):
            peak_tree = max(peak_tree, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{label} failed ({proc.returncode}):\n"
                         f"{err_path.read_text()[-2000:]}")
    out_text = out_path.read_text().strip()
    out_path.unlink()
    err_path.unlink()
    return Run(label, usage.ru_maxrss / 1024, peak_tree / 1024, wall,
               usage.ru_utime + usage.ru_stime, out_text)


def measure(name: str, tree: Path, big: Path, tiny: Path, work: Path,
            ingest: bool) -> list[Run]:
    runs = []
    for kind, path in (("tiny", tiny), ("big", big)):
        runs.append(run_child(f"{name} reader, {kind}", READER, [str(path)], tree, work))
        if ingest:
            db = work / f"{name.replace(' ', '-')}-{kind}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            summary = run_child(f"{name} siyu ingest, {kind}", CLI,
                                ["--db", f"sqlite:///{db}", "ingest", str(path), "--json"],
                                tree, work)
            summary.out = _ingest_summary(summary.out)
            runs.append(summary)
    return runs


def _ingest_summary(out: str) -> str:
    try:
        report: dict[str, Any] = json.loads(out)
    except ValueError:
        return out[:80]
    return f"new {report.get('new')}, rejects {len(report.get('rejects') or [])}"


def worktree(ref: str, work: Path) -> Path:
    """A detached checkout of `ref` to import the other code from."""
    path = work / f"ref-{ref.replace('/', '-')}"
    if not path.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
                       check=True, capture_output=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=44.0, help="size of the big file (MiB)")
    parser.add_argument("--keep", type=Path, help="work directory kept (and the file reused)")
    parser.add_argument("--compare-ref", metavar="REF", help="also run git REF (e.g. main)")
    parser.add_argument("--skip-ingest", action="store_true", help="readers only")
    parser.add_argument("--breakdown", action="store_true",
                        help="also: this tree's ingest step by step, with the analysis cache, "
                        "batch size and tag rebuild chunk varied (three more ingests)")
    parser.add_argument("--build", nargs=3, metavar=("MB", "BIG", "TINY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        big, tiny = Path(args.build[1]), Path(args.build[2])
        if not big.exists():
            start = time.perf_counter()
            count = build(big, float(args.build[0]))
            print(f"built {big} ({count} messages) in {time.perf_counter() - start:.1f} s")
        tiny_copy(big, tiny)
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="siyu-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    big, tiny = work / f"single-line-{args.mb:g}mb.json", work / "tiny.json"
    subprocess.run([sys.executable, __file__, "--build", str(args.mb), str(big), str(tiny)],
                   check=True)
    size_mb = big.stat().st_size / MB
    from bench_ingest import machine

    print(machine())
    print(f"file: {size_mb:.1f} MiB on one line; ≤ 4× the file size = {4 * size_mb:.0f} MiB; "
          f"this script's own RSS when starting the children: "
          f"{_tree_rss(os.getpid()) / 1024:.0f} MiB (their high-water marks start there)")
    trees = [("this tree", ROOT)]
    if args.compare_ref:
        trees.append((args.compare_ref, worktree(args.compare_ref, work)))
    runs: list[Run] = []
    try:
        for name, tree in trees:
            runs += measure(name, tree, big, tiny, work, not args.skip_ingest)
    finally:
        if args.compare_ref:  # the checkout is quick to make again; never leave it registered
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(trees[-1][1])], check=False, capture_output=True)
    print(f"\n{'run':<34} {'peak MiB':>9} {'tree MiB':>9} {'× file':>7} {'wall s':>7} "
          f"{'CPU s':>6}  result")
    for r in runs:
        print(f"{r.label:<34} {r.peak_mb:>9.0f} {r.tree_mb:>9.0f} "
              f"{r.peak_mb / size_mb:>7.2f} {r.wall:>7.1f} {r.cpu:>6.1f}  {r.out}")
    floors = {r.label.rsplit(",", 1)[0]: r.peak_mb for r in runs if r.label.endswith("tiny")}
    print("\nabove the tiny-file floor of the same command:")
    for r in runs:
        if r.label.endswith("big"):
            floor = floors[r.label.rsplit(",", 1)[0]]
            print(f"  {r.label:<32} +{r.peak_mb - floor:.0f} MiB = "
                  f"{(r.peak_mb - floor) / size_mb:.2f}× the file (floor {floor:.0f} MiB)")
    if args.breakdown:
        breakdown(big, work)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def breakdown(big: Path, work: Path) -> None:
    """High-water marks of each step of one ingest: as it is, with the tag rebuild in smaller
    chunks (the holder left once learning streams), and with a small cache and batches too."""
    print("\nthis tree's `siyu ingest` step by step (high-water mark of each step, one process):")
    for cache, batch, chunk, decoded in ((0, 0, 0, 0), (0, 0, 20_000, 20_000),
                                         (1000, 2000, 20_000, 20_000)):
        db = work / "phases.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        run = run_child("phases", PHASES, [str(big), f"sqlite:///{db}", str(cache), str(batch),
                                           str(chunk), str(decoded)], ROOT, work)
        print(f"  {run.out}  [peak {run.peak_mb:.0f} MiB, {run.wall:.0f} s]")

if __name__ == "__main__":
    raise SystemExit(main())
