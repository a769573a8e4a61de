"""Segmentation as the bot runs it: `run_and_store` on a stored community, stage by stage.

    python scripts/bench_segment_run.py --db sqlite:///PATH [--rounds 2]

Why this shape:
* `scripts/bench_segment.py --source db` times the engine on a stored community but never
  reads a previous run back, and every run but a community's first does: the bot compares
  each run with the one before (stable circle codes, "what changed"). So each measured run
  here is `handlers/segments.py: run_and_store` itself (read, previous run read back,
  tabulate, segment, store, prune), in a child process of its own so its peak RSS is its
  own. Rounds run one after the other on the same database: the first compares with
  whatever run is stored already (none on a fresh community), each later one with the run
  the round before stored.
* Stage times come from wrapping what `run_and_store` calls (`STAGES`), wall and CPU, with
  the process's peak RSS (`ru_maxrss`) and its resident RSS at each stage's end: the stage
  after which the peak jumps is the one that made it, and what stays resident shows what a
  stage left behind for the next.
* `scripts/bench_segment_pg.py` runs the same child on PostgreSQL beside SQLite, and
  `bench_segment.py --source db --previous` runs these rounds on the community it built.

The machine is shared and noisy: the load average is printed with every run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

RESULT_PREFIX = "RESULT "

# Stages of `run_and_store` timed by wrapping what it calls: (owner, attribute, stage).
# "circles" to "compare" are the engine's steps inside "segment" (as run_segmentation calls
# them, through their modules), "texts" (the sampled members' text parts, read from the
# database) inside "cards"; "save" (the run's row and member rows) inside "store" (which also
# builds and serialises the stored document).
STAGES = (("handlers.segments", "gather_columns", "read"),
          ("storage.segments:SegmentStore", "comparable", "previous"),
          ("handlers.segments", "tabulate", "tabulate"),
          ("handlers.segments", "run_segmentation", "segment"),
          ("persona.clusters", "find_circles", "circles"),
          ("persona.cards", "build_cards", "cards"),
          ("storage.segment_inputs:ColumnReader", "details", "texts"),
          ("persona.patterns", "find_patterns", "patterns"),
          ("persona.patterns", "feature_importance", "importance"),
          ("persona.compare", "compare_runs", "compare"),
          ("handlers.segments", "store_result", "store"),
          ("storage.segments:SegmentStore", "save_run", "save"),
          ("storage.segments:SegmentStore", "prune", "prune"))


def rss_mb() -> float:
    """The process's resident memory now (VmRSS), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler:
    """Resident RSS sampled every 20 ms by a thread, the highest seen kept per innermost
    running stage (`out["max_in_" + stage + "_mb"]`; "between" outside every stage): the
    process's peak (`ru_maxrss`) only says which stage first reached it, not what each stage
    reaches on its own."""

    def __init__(self, out: dict[str, Any]) -> None:
        import threading

        self.out = out
        self.running: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.note()

    def note(self) -> None:
        key = f"max_in_{self.running[-1] if self.running else 'between'}_mb"
        self.out[key] = max(self.out.get(key, 0.0), rss_mb())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def time_stages(out: dict[str, Any]) -> Sampler:
    """Wrap each of STAGES so its wall and CPU seconds add up in `out[stage + "_s"]` and
    `out[stage + "_cpu_s"]`, with the peak RSS at its end in `out["peak_after_" + stage +
    "_mb"]`, the resident RSS in `out["rss_after_" + stage + "_mb"]` and the highest resident
    RSS sampled while it was the innermost stage running in `out["max_in_" + stage + "_mb"]`
    (a child process: nothing is undone)."""
    import importlib

    sampler = Sampler(out)

    for owner, attr, stage in STAGES:
        module, _, cls = owner.partition(":")
        target: Any = importlib.import_module(module)
        if cls:
            target = getattr(target, cls)
        real = getattr(target, attr)

        def timed(*args: Any, _real: Any = real, _stage: str = stage, **kwargs: Any) -> Any:
            t, c = time.perf_counter(), time.process_time()
            sampler.running.append(_stage)
            try:
                return _real(*args, **kwargs)
            finally:
                sampler.note()
                sampler.running.pop()
                out[f"{_stage}_s"] = out.get(f"{_stage}_s", 0.0) + time.perf_counter() - t
                out[f"{_stage}_cpu_s"] = (out.get(f"{_stage}_cpu_s", 0.0)
                                          + time.process_time() - c)
                out[f"peak_after_{_stage}_mb"] = (
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
                out[f"rss_after_{_stage}_mb"] = rss_mb()

        setattr(target, attr, timed)
    return sampler


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


def child(url: str, as_of: str) -> dict[str, Any]:
    """One `run_and_store`, stage by stage; times and peak RSS."""
    from datetime import datetime

    import handlers.segments as segments
    from bot.app import App
    from handlers.settings import Settings

    out: dict[str, Any] = {}
    sampler = time_stages(out)
    settings = Settings(db=url)
    app = App(settings)
    _ = app.store, app.labels
    out["rss_start_mb"] = rss_mb()
    t0 = time.perf_counter()
    c0 = time.process_time()
    outcome = segments.run_and_store(app.store, settings, app.labels,
                                     datetime.fromisoformat(as_of))
    out["total_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    sampler.stop()
    out["members"] = len(outcome.result.member_ids)
    out["compared_with"] = outcome.previous.id if outcome.previous else None
    out["counts"] = outcome.result.counts()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if app.store.engine.dialect.name == "postgresql":
        out.update(server_usage(app.store.engine))
    app.store.engine.dispose()
    return out


def run_child(url: str, as_of: str, timeout: float) -> dict[str, Any]:
    """`child` in a process of its own (its peak RSS is the run's alone)."""
    proc = subprocess.run([sys.executable, __file__, "--child", url, "--as-of", as_of],
                          capture_output=True, text=True, timeout=timeout, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX):]))
    return {"error": (proc.stderr.strip().splitlines() or ["no result"])[-1]}


def header() -> str:
    stages = dict.fromkeys(stage for _, _, stage in STAGES)
    return (f"{'backend':10} {'round':>5} " + " ".join(f"{stage:>8}" for stage in stages)
            + f" {'total s':>8} {'CPU s':>7} {'peak RSS MB':>12} {'load':>5} "
            f"{'server CPU s':>12} {'server RSS MB':>13}")


def row(backend: str, r: int, res: dict[str, Any], load: float) -> str:
    """One run's line of the table; under it CPU seconds, the peak RSS and the resident RSS
    after each stage."""
    line = (f"{backend:10} {r:5d} "
            + " ".join(f"{res.get(f'{stage}_s', 0):8.2f}"
                       for stage in dict.fromkeys(s for _, _, s in STAGES))
            + f" {res['total_s']:8.2f} {res['cpu_s']:7.2f} {res['peak_rss_mb']:12.0f} "
            f"{load:5.2f}"
            + (f" {res['server_cpu_s']:12.2f} {res['server_rss_mb']:13.0f}"
               if "server_cpu_s" in res else ""))
    done = list(dict.fromkeys(stage for _, _, stage in STAGES
                              if f"peak_after_{stage}_mb" in res))
    cpu = ", ".join(f"{s} {res[f'{s}_cpu_s']:.2f}" for s in done)
    peaks = ", ".join(f"{s} {res[f'peak_after_{s}_mb']:.0f}" for s in done)
    resident = ", ".join(f"{s} {res[f'rss_after_{s}_mb']:.0f}" for s in done)
    highest = ", ".join(f"{s} {res[f'max_in_{s}_mb']:.0f}" for s in (*done, "between")
                        if f"max_in_{s}_mb" in res)
    compared = (f"compared with run {res['compared_with']}" if res.get("compared_with")
                else "no previous run")
    return (f"{line}\n    {compared}; CPU s: {cpu}\n    peak RSS MB after: {peaks}\n"
            f"    resident RSS MB after: {resident} (start {res.get('rss_start_mb', 0):.0f})\n"
            f"    highest resident RSS MB while running (innermost stage): {highest}")


def rounds(url: str, count: int, timeout: float, label: str = "sqlite") -> list[dict[str, Any]]:
    """`count` runs one after the other on the database at `url`, printed as they end."""
    from sample_community import SAMPLE_NOW

    print(header())
    results = []
    for r in range(1, count + 1):
        res = run_child(url, SAMPLE_NOW.isoformat(), timeout)
        if "error" in res:
            print(f"{label:10} {r:5d} error: {res['error']}", flush=True)
            continue
        results.append(res)
        print(row(label, r, res, os.getloadavg()[0]), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="the community's database URL (runs are stored in it)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--as-of", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(RESULT_PREFIX + json.dumps(child(args.child, args.as_of), ensure_ascii=False))
        return 0
    if not args.db:
        ap.error("--db URL is required")
    print(f"load average {os.getloadavg()}; {args.db}")
    done = rounds(args.db, args.rounds, args.timeout)
    return 0 if len(done) == args.rounds else 3


if __name__ == "__main__":
    raise SystemExit(main())
