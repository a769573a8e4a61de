"""The benchmark scripts still run and still check their own counts.

Correctness only: each script runs in a tiny mode as a subprocess, exactly as a person would
run it, and the test looks at the exit code, the table headers and the count checks the
scripts print. Nothing here asserts a time: the machine is shared, so a timing assertion would
only measure the neighbours.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPTS / name), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_segment_tiny_sizes_assign_every_member() -> None:
    proc = run_script("bench_segment.py", "--sizes", "300,600")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("machine: ") and "numpy" in out and "scikit-learn" in out
    assert "members  build s  segment s  to_json s" in out
    for n in (300, 600):
        assert re.search(rf"^\s+{n} .* {n}/{n} assigned \(matches\)$", out, re.M), out
    assert "MISMATCH" not in out
    assert "growth between consecutive sizes" in out and "300 → 600" in out


def test_bench_segment_db_source_reads_a_stored_community(tmp_path: Path) -> None:
    """--source db builds the community into SQLite once, then times storage → columns →
    segmentation → to_json → storing the run; a second run reuses the file."""
    proc = run_script("bench_segment.py", "--sizes", "300", "--source", "db",
                      "--db-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^\s+300 .* 300/300 assigned \(matches\)$", proc.stdout, re.M), proc.stdout
    assert "database: built" in proc.stdout and "store " in proc.stdout
    again = run_script("bench_segment.py", "--sizes", "300", "--source", "db",
                       "--db-dir", str(tmp_path))
    assert "database: reused" in again.stdout, again.stdout + again.stderr


def test_bench_segment_previous_runs_the_bots_run_twice(tmp_path: Path) -> None:
    """--previous: run_and_store as the bot runs it, each round's run compared with the one
    the round before stored, every stage timed with its CPU, peak and resident RSS."""
    proc = run_script("bench_segment.py", "--sizes", "300", "--source", "db", "--db-dir",
                      str(tmp_path), "--previous", "--rounds", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert re.search(r"^backend +round +read +previous +tabulate +segment ", out, re.M), out
    assert len(re.findall(r"^sqlite +[12] ", out, re.M)) == 2, out
    assert "    no previous run; CPU s: read " in out
    assert "    compared with run 1; CPU s: read " in out
    assert out.count("peak RSS MB after: read ") == 2
    assert re.search(r"highest resident RSS MB while running .*: read \d+.* save \d+", out), out
    assert "note:" not in out


def test_bench_segment_generator_is_deterministic() -> None:
    bench = load_script("bench_segment")
    pools = bench.Pools(7, messages=800)
    a = bench.generate_members(50, 7, pools)
    b = bench.generate_members(50, 7, pools)
    assert [m.persona.to_json(bench.SAMPLE_NOW.tzinfo) for m in a] == [
        m.persona.to_json(bench.SAMPLE_NOW.tzinfo) for m in b]
    assert [m.orders for m in a] == [m.orders for m in b]
    assert len({m.persona.member_id for m in a}) == 50


def test_bench_segment_reports_a_failed_size_and_goes_on(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A size that runs out of memory (or is skipped) becomes a line, not a crash."""
    bench = load_script("bench_segment")
    ok: dict[str, Any] = {
        "members": 1000, "build_s": 0.1, "segment_s": 0.5, "to_json_s": 0.01, "dumps_s": 0.01,
        "json_mb": 0.2, "rss_start_mb": 100.0, "rss_built_mb": 110.0,
        "rss_segmented_mb": 150.0, "peak_rss_mb": 150.0, "circles": 3, "tags": 8000,
        "orders": 600, "result_members": 1000, "assignments": 1000,
        "dimension_sums": {"value": 1000, "lifecycle": 1000}, "stages": {"tabulate": 0.1},
        "clustering": {"method": "kmeans", "k": 3, "profiled": 700}}

    def fake_run_size(n: int, *_: Any) -> dict[str, Any]:
        if n == 1000:
            return ok
        return {"members": n, "error": "child failed: killed by signal 9 (likely out of memory)"}

    monkeypatch.setattr(bench, "run_size", fake_run_size)
    assert bench.main(["--sizes", "1000,2000,3000"]) == 0
    out = capsys.readouterr().out
    assert "1000/1000 assigned (matches)" in out
    assert "note: 2,000 members not measured: child failed: killed by signal 9" in out
    assert "note: 3,000 members not measured" in out


def line(out: str, pattern: str) -> re.Match[str]:
    """The script's line matching `pattern` (anchored to a whole line)."""
    match = re.search(rf"^{pattern}$", out, re.M)
    assert match, f"no line matching {pattern!r} in:\n{out}"
    return match


def test_bench_live_quick_stores_every_message_once(tmp_path: Path) -> None:
    proc = run_script("bench_live.py", "--quick", "--keep", str(tmp_path / "live"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("machine: ")
    line(out, r"latency \(ms\)\s+p50\s+p90\s+p99\s+max\s+mean")
    line(out, r"dispatcher\.feed \(service time\)(\s+[\d.]+){5}")
    fed = int(line(out, r"messages fed\s+(\d+)")[1])
    dups = int(line(out, r"  of which duplicates\s+(\d+)")[1])
    abandoned = int(line(out, r"abandoned at drain limit\s+(\d+)")[1])
    # 50 msg/s for 2 s; a very slow machine may abandon some at the drain limit, never lose one
    assert fed + abandoned == 100
    stored = line(out, r"messages stored \(DB\)\s+(\d+)\s+\((\w+)\)")
    assert int(stored[1]) == fed - dups and stored[2] == "matches"
    suggestions = int(line(out, r"suggestions stored \(DB\)\s+(\d+)")[1])
    sent = int(line(out, r"suggestions sent to operator\s+(\d+).*")[1])
    assert suggestions > 0 and 0 < sent <= suggestions
    line(out, r"handler errors \(logged\)\s+0")
    assert (tmp_path / "live" / "live.db").is_file()  # --keep keeps the database


def test_bench_ingest_tiny_run_prints_every_row_and_agrees_between_worker_counts() -> None:
    """The ingest bench names the machine, says how distinct its texts are, times the
    extract_tags peer beside the bare tokenizers and the ingest with one and two workers, and
    checks that both stored the same results."""
    proc = run_script("bench_ingest.py", "--messages", "1500")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert re.match(r"machine: .* \d+ cores, load average [\d.]+ [\d.]+ [\d.]+, Python ", out)
    distinct = re.search(r"= ([\d.]+) % distinct\)", out)
    assert distinct and float(distinct.group(1)) >= 85, out
    for row in ("bare jieba.lcut loop", "bare rjieba.cut loop", "peer: extract_tags per message",
                "siyu ingest --workers 1 (r1)", "siyu ingest --workers 2 (r1)"):
        assert re.search(rf"^{re.escape(row)} +[\d.]+ +[\d.]+ +[\d.]+ +\d+ +\d+ ", out,
                         re.M), out
    assert "÷ peer" in out and "msgs/cpu-s" in out
    assert re.search(r"^round 1: --workers 2 is [\d.]+× --workers 1 \(wall\)$", out, re.M), out
    # the breakdowns: wall and CPU per stage, one process and pooled
    assert re.search(r"^  tag rebuild \(refresh_stale_tags\) +[\d.]+ +[\d.]+% +[\d.]+ +[\d.]+%$",
                     out, re.M), out
    assert re.search(r"^  wait for the workers' results +[\d.]+ +[\d.]+% ", out, re.M), out
    assert re.search(r"^  workers \(CPU of all of them\) +[\d.]+$", out, re.M), out
    # the floors, each measured
    for floor in ("start-up: interpreter, imports, lexicon, tokenizer", "json.loads every line",
                  "sqlite3 insert of the 1497 message rows, our schema",
                  "sqlite3 read of them all back (one scan)"):
        assert re.search(rf"^  {re.escape(floor)} +[\d.]+ s$", out, re.M), out
    assert "--workers 1 vs --workers 2: identical" in out, out
    assert re.search(r"ingest --workers 2 round 1: new=\d+ duplicate=0 ", out), out


def test_bench_live_with_a_slow_llm_endpoint_polishes_after_sending() -> None:
    """--llm-delay: the endpoint (a child process) is asked, follow-ups come back, and every
    message is still stored once with no handler error."""
    proc = run_script("bench_live.py", "--quick", "--llm-delay", "0.2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "[llm] a local endpoint answering in 0.2s" in out
    asked = int(line(out, r"LLM polish requests \(endpoint\)\s+(\d+)")[1])
    follow = int(line(out, r"polished follow-ups sent\s+(\d+)")[1])
    sent = int(line(out, r"suggestions sent to operator\s+(\d+).*")[1])
    assert 0 < follow <= asked <= sent
    assert line(out, r"messages stored \(DB\)\s+\d+\s+\((\w+)\)")[1] == "matches"
    line(out, r"handler errors \(logged\)\s+0")


def test_bench_segment_keep_holds_the_rows_of_keep_runs(tmp_path: Path) -> None:
    built = run_script("bench_segment.py", "--source", "db", "--build-db", "300",
                       "--db-dir", str(tmp_path))
    assert built.returncode == 0, built.stdout + built.stderr
    proc = run_script("bench_segment_keep.py", "--members", "300", "--runs", "3", "--keep",
                      "2", "--db-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = re.findall(r"^\s+(\d) +(keep|all) +(\d+) ", proc.stdout, re.M)
    assert [(int(r), c, int(n)) for r, c, n in rows] == [
        (1, "keep", 300), (1, "all", 300), (2, "keep", 600), (2, "all", 600),
        (3, "keep", 600), (3, "all", 900)]
