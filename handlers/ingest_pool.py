"""Analysis in worker processes for big imports: the main process reads and writes, workers
analyse.

One process uses one core, and on distinct chat text the analyser (tokenise + rules + the
complaint model) is most of an import's CPU. The pool is made once per import, before the
database is opened: on Linux its workers are forked, so they share the already-loaded
lexicon, tokenizer dictionary and complaint model copy-on-write and start in milliseconds
(spawn would load them again in every worker, seconds each), and they never inherit an open
SQLite connection or a thread. Workers touch no database; the main process stays the only
writer (handlers/ingest.py pipelines it: batch N is written while batch N+1 is analysed).

Only distinct, not-yet-analysed (text, type, time) keys cross the process boundary, and only
the signals JSON text comes back: the same text `signals_json` makes in one process, so what is
stored is byte-for-byte what the single-process path stores.

A worker that raises or dies (killed, out of memory) surfaces as `IngestWorkerError` with a
Chinese message; batches already written are whole (one transaction each) and a re-run
continues. Workers ignore Ctrl-C (the main process shuts them down) and, on Linux, ask the
kernel to kill them if the main process dies, so no import leaves orphans behind.
"""

from __future__ import annotations

import ctypes
import gc
import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

from handlers.settings import ConfigError, Settings, section
from persona.analyze import Analyzer
from persona.sentiment import default_model
from storage.batches import signals_json

try:  # the `fast` extra; json.loads gives the same values, only slower
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _loads = json.loads

# (analysed text, message type, the message's time): all `Analyzer.analyse` reads.
Key = tuple[str | None, str, datetime]
# What the ingest's cache is keyed by: the time reduced to its year.
CacheKey = tuple[str | None, str, int]
# The signals document and its stored JSON text.
Analysed = tuple[dict[str, Any], str]

# Below this many bytes of export files an import stays in one process: forking the pool and
# handing work over costs more than the second core gives back on a few thousand messages
# (measured: docs/performance.md, Ingest).
POOL_MIN_BYTES = 2_000_000
# Keys per task: small enough that both workers finish a batch at about the same time, big
# enough that pickling and the queue round trip stay a few per cent of the analysis.
CHUNK = 1_000

_PR_SET_PDEATHSIG = 1
_analyzer: Analyzer | None = None  # the worker's analyser, inherited through fork


class IngestWorkerError(RuntimeError):
    """An analysis worker failed; the message says what the operator can do."""


def default_workers() -> int:
    """One worker per core: on 2 cores two workers analyse while the main process reads and
    writes in the gaps (measured best of 1–3 on this project's 2-core machine)."""
    return max(1, os.cpu_count() or 1)


def workers_setting(settings: Settings, override: int | None) -> int:
    """`siyu ingest --workers N`, else siyu.toml `[ingest] workers`, else one per core. Its
    range is checked with the other numbers (handlers/settings.py: SECTION_LIMITS)."""
    if override is not None:
        if override < 1:
            raise ConfigError(f"--workers {override}: 至少为 1（1 = 单进程导入）")
        return override
    value = section(settings, "ingest").get("workers", default_workers())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{settings.source}: [ingest] workers 应为不小于 1 的整数"
                          f"（分析进程数，1 = 单进程导入）：{value!r}")
    return value


def use_pool(workers: int, total_bytes: int) -> bool:
    """Whether an import of `total_bytes` of files gets worker processes."""
    return workers > 1 and total_bytes >= POOL_MIN_BYTES and can_fork()


def can_fork() -> bool:
    """Workers inherit the loaded analyser by fork (Linux, macOS); elsewhere imports stay
    in one process."""
    return "fork" in multiprocessing.get_all_start_methods()


def _worker_init() -> None:
    """Ctrl-C goes to the whole process group; the main process decides, workers wait to be
    shut down. If the main process is killed outright, Linux kills the worker too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: shutdown still reaps
            pass
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def _analyse_chunk(keys: Sequence[Key]) -> list[str]:
    analyzer = _analyzer
    assert analyzer is not None, "worker started without an analyser"
    return [signals_json(s.to_json()) for s in analyzer.analyse_many(keys)]


class AnalysisJob:
    """One batch's keys, analysed by the pool; `result()` waits for them."""

    def __init__(self, sent: dict[CacheKey, Key], futures: list[Future[list[str]]]) -> None:
        # What the batch sent, by cache key: a later batch does not send these again.
        self.sent = sent
        self._futures = futures

    def result(self) -> dict[CacheKey, Analysed]:
        out: dict[CacheKey, Analysed] = {}
        names = list(self.sent)
        start = 0
        for fut in self._futures:
            try:
                texts = fut.result()
            except BrokenProcessPool as exc:
                raise IngestWorkerError(
                    "分析进程意外退出（可能被系统终止或内存不足）；已写入的批次完整保存，"
                    "重新运行 siyu ingest 会从中断处继续（或加 --workers 1 单进程导入）") from exc
            except Exception as exc:
                raise IngestWorkerError(
                    f"分析进程出错：{type(exc).__name__}: {exc}；已写入的批次完整保存，"
                    "重新运行 siyu ingest 会从中断处继续（或加 --workers 1 单进程导入）"
                ) from exc
            for key, text_json in zip(names[start:start + len(texts)], texts,
                                      strict=True):
                out[key] = (_loads(text_json), text_json)
            start += len(texts)
        return out

    def cancel(self) -> None:
        for fut in self._futures:
            fut.cancel()


class AnalysisPool:
    """`workers` forked processes analysing for one import; a context manager that always
    shuts them down (also on Ctrl-C or an error)."""

    def __init__(self, analyzer: Analyzer, workers: int) -> None:
        global _analyzer
        if not can_fork():
            raise IngestWorkerError("此系统不支持多进程分析（需要 fork）；请用 --workers 1")
        # Loaded before the fork, so every worker shares them instead of loading its own.
        analyzer.analyse("预热一下：这个太贵了", "text", datetime(2026, 1, 1))
        default_model()
        self.workers = workers
        _analyzer = analyzer
        # What exists now is never collected by a worker: its collector would write to every
        # shared page (the object headers) and turn copy-on-write into copies.
        gc.freeze()
        try:
            self._executor = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("fork"),
                initializer=_worker_init)
            # With fork every worker starts at the first submit: now, before any database
            # connection or thread exists in this process.
            self._executor.submit(_analyse_chunk, []).result()
        finally:
            gc.unfreeze()

    def submit(self, sent: dict[CacheKey, Key]) -> AnalysisJob:
        keys = list(sent.values())
        futures = [self._executor.submit(_analyse_chunk, keys[i:i + CHUNK])
                   for i in range(0, len(keys), CHUNK)]
        return AnalysisJob(sent, futures)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> AnalysisPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
