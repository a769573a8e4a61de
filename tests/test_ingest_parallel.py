"""Analysis in worker processes (handlers/ingest_pool.py) changes nothing but the speed.

The same files imported in one process and with two workers give the same database, table by
table and row by row (messages with their signals, members, identities, tags, learned words),
also when batches share texts (a key sent by the batch before is not sent again) and when the
analysis cache starts over mid-import. A worker that raises or is killed stops the import with
a Chinese error, leaves only whole batches, and a re-run completes it to exactly the clean
result. Ctrl-C and a killed importer leave no worker behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from test_crash_safety import (
    _sample_community,
    assert_same_database,
    batch_bounds,
    message_count,
)

import handlers.ingest as ingest_mod
import handlers.ingest_pool as pool_mod
from bot.app import App
from bot.cli import main
from bot.sources import SourceError, open_source
from handlers.events import SourceItem
from handlers.ingest import Ingestor, IngestReport
from handlers.ingest_pool import AnalysisPool, IngestWorkerError, workers_setting
from handlers.settings import ConfigError, Settings
from persona.analyze import Analyzer
from persona.signals import Signals

ROOT = Path(__file__).resolve().parent.parent
BATCH = 400
POISON = "这条消息让分析进程出事"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bulk export (repeated chat lines across batches) plus two messages of our own: one
    past the analysis limit and the poison line the failing workers react to."""
    d = tmp_path_factory.mktemp("parallel")
    path = d / "chat.jsonl"
    _sample_community().write_bulk_jsonl(path, 4_000, seed=5, members=120)
    lines = path.read_text(encoding="utf-8").splitlines()
    extra = [
        '{"_type":"message","sender":"wxid_long","timestamp":1763640000,"type":0,'
        '"content":"' + "太贵了" * 40 + '"}',
        '{"_type":"message","sender":"wxid_poison","timestamp":1763640060,"type":0,'
        '"content":"' + POISON + '"}',
    ]
    head, body = lines[:1], lines[1:]
    body[len(body) // 2:len(body) // 2] = extra  # mid-file: batches before and after it
    path.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    return path


def settings_for(db: Path) -> Settings:
    return Settings(db=f"sqlite:///{db}", batch_size=BATCH, max_analysed_chars=100)


def ingest(db: Path, path: Path, workers: int, analyzer_wrap: type | None = None) -> IngestReport:
    app = App(settings_for(db))
    analyzer = app.analyzer if analyzer_wrap is None else analyzer_wrap(app.analyzer)
    pool = AnalysisPool(analyzer, workers) if workers > 1 else None
    try:
        ingestor = Ingestor(app.store, analyzer, app.settings, app.labels, pool=pool)
        report = ingestor.ingest(open_source(path))
        return ingestor.finish(report)
    finally:
        if pool is not None:
            pool.close()
        app.store.engine.dispose()


def test_two_workers_store_exactly_what_one_process_stores(
        export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    # A small cache: it starts over many times during the import, in both paths.
    monkeypatch.setattr(ingest_mod, "ANALYSIS_CACHE_SIZE", 300)
    a = ingest(one, export, workers=1)
    b = ingest(two, export, workers=2)
    assert a.to_json() == b.to_json()
    assert a.new > 9 * BATCH and a.truncated > 1 and not a.rejects
    assert_same_database(two, one)
    assert multiprocessing.active_children() == []


def test_the_cli_uses_the_pool_and_the_setting(export: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pool_mod, "POOL_MIN_BYTES", 0)
    started: list[int] = []
    real_init = AnalysisPool.__init__

    def counting_init(self: AnalysisPool, analyzer: Analyzer, workers: int) -> None:
        started.append(workers)
        real_init(self, analyzer, workers)

    monkeypatch.setattr(AnalysisPool, "__init__", counting_init)
    cfg = tmp_path / "siyu.toml"
    cfg.write_text(f"batch_size = {BATCH}\nmax_analysed_chars = 100\n[ingest]\nworkers = 2\n",
                   encoding="utf-8")
    pooled, alone = tmp_path / "cli2.db", tmp_path / "cli1.db"
    base = ["--config", str(cfg)]
    assert main([*base, "--db", f"sqlite:///{pooled}", "ingest", str(export), "--json"]) == 0
    assert main([*base, "--db", f"sqlite:///{alone}", "ingest", str(export), "--json",
                 "--workers", "1"]) == 0
    assert started == [2]
    capsys.readouterr()
    assert_same_database(pooled, alone)
    assert main([*base, "--db", f"sqlite:///{pooled}", "ingest", str(export),
                 "--workers", "0"]) == 1
    assert "--workers 0" in capsys.readouterr().err


def test_a_reader_failing_mid_file_leaves_what_one_process_leaves(export: Path,
                                                                  tmp_path: Path) -> None:
    """The batch cut before the failure is written (one process had written it already);
    the one being read is not, in either path."""

    def broken() -> Iterator[SourceItem]:
        for n, item in enumerate(open_source(export)):
            if n == int(BATCH * 2.5):
                raise SourceError(str(export), "读到一半坏了")
            yield item

    dbs = []
    for workers in (1, 2):
        db = tmp_path / f"w{workers}.db"
        app = App(settings_for(db))
        pool = AnalysisPool(app.analyzer, workers) if workers > 1 else None
        try:
            ingestor = Ingestor(app.store, app.analyzer, app.settings, app.labels, pool=pool)
            with pytest.raises(SourceError, match="读到一半坏了"):
                ingestor.ingest(broken())
        finally:
            if pool is not None:
                pool.close()
            app.store.engine.dispose()
        dbs.append(db)
    assert message_count(dbs[0]) == batch_bounds(export, BATCH)[1]
    assert_same_database(dbs[1], dbs[0])


@pytest.mark.parametrize("value", [0, -1, 1_000, "2", True])
def test_a_bad_workers_setting_is_refused(value: object) -> None:
    with pytest.raises(ConfigError, match=r"\[ingest\] workers"):
        workers_setting(Settings(sections={"ingest": {"workers": value}}), None)


def test_the_workers_default_to_the_cores() -> None:
    assert workers_setting(Settings(), None) == max(1, os.cpu_count() or 1)
    assert workers_setting(Settings(sections={"ingest": {"workers": 3}}), None) == 3
    assert workers_setting(Settings(sections={"ingest": {"workers": 3}}), 1) == 1


class _Failing:
    """The real analyser, except in a worker process meeting the poison line."""

    parent = os.getpid()

    def __init__(self, inner: Analyzer) -> None:
        self.inner = inner

    def analyse(self, text: str | None, msg_type: str, ts: datetime) -> Signals:
        if text == POISON and os.getpid() != self.parent:
            self.fail()
        return self.inner.analyse(text, msg_type, ts)

    def analyse_many(self, keys: list[tuple[str | None, str, datetime]]) -> list[Signals]:
        return [self.analyse(*key) for key in keys]

    def fail(self) -> None:
        raise NotImplementedError


class _Killed(_Failing):
    def fail(self) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


class _Raising(_Failing):
    def fail(self) -> None:
        raise ValueError("坏数据")


@pytest.mark.parametrize(("wrap", "said"), [(_Killed, "分析进程意外退出"),
                                            (_Raising, "分析进程出错：ValueError: 坏数据")])
def test_a_failing_worker_stops_the_import_whole_and_a_rerun_completes_it(
        export: Path, tmp_path: Path, wrap: type, said: str) -> None:
    clean, db = tmp_path / "clean.db", tmp_path / "broken.db"
    ingest(clean, export, workers=1)
    with pytest.raises(IngestWorkerError, match=said) as info:
        ingest(db, export, workers=2, analyzer_wrap=wrap)
    assert "重新运行 siyu ingest 会从中断处继续" in str(info.value)
    assert multiprocessing.active_children() == []
    stored = message_count(db)
    # Only whole batches: the count after some number of committed batches.
    assert 0 < stored < message_count(clean)
    assert stored in batch_bounds(export, BATCH)
    ingest(db, export, workers=1)  # the poison line is fine in one process
    assert_same_database(db, clean)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_ctrl_c_or_a_killed_importer_leaves_no_worker_behind(
        tmp_path: Path, how: signal.Signals) -> None:
    big = tmp_path / "big.jsonl"
    _sample_community().write_bulk_jsonl(big, 12_000, seed=3, members=200)
    assert big.stat().st_size >= pool_mod.POOL_MIN_BYTES
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SIYU_DB", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--db",
                             f"sqlite:///{tmp_path / 'x.db'}", "ingest", str(big),
                             "--workers", "2"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the pool never started"
        proc.send_signal(how)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 10
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, workers)), "a worker outlived the import"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
