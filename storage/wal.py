"""WAL checkpoints off the message path: a thread of the live bot's own.

The bot's engine (`storage/db.py: make_engine(..., background_checkpoints=True)`) leaves
SQLite's automatic checkpoint to a backstop far past the default, and this thread copies the
WAL back into the database file every half second instead, so no message waits for that copy
and its fsync.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger("siyu.storage")


class WalCheckpointer:
    """Copies the WAL back into a SQLite database from a thread of its own.

    By default the connection whose commit takes the WAL past 1,000 pages runs the checkpoint
    itself: it writes those pages into the database file and fsyncs both files (with
    synchronous=NORMAL the only fsyncs WAL mode makes) before the commit returns. At 200
    messages/s that is a checkpoint every second or so, each inside one message's
    transaction; when the disk is busy the fsync takes hundreds of ms (bench_live: messages
    of 240–320 ms with another process writing to the disk, one of 737 ms with 37 ms of CPU
    on a plain run). The live bot's engine is opened with
    `background_checkpoints=True`, which raises that threshold to a backstop, and this thread
    runs a PASSIVE checkpoint every `interval` seconds on its own connection: PASSIVE never
    waits for a reader or writer, and sqlite3 releases the GIL while SQLite copies and
    fsyncs, so the message path neither waits nor loses the interpreter for it. A checkpoint
    that fails (the disk full, the file gone) is logged once per kind of error; the next
    tries again, and the connections' backstop still bounds the WAL.
    """

    def __init__(self, path: Path, interval: float = 0.5) -> None:
        self.path = path
        self.interval = interval
        self.runs = 0  # checkpoints run
        self.longest = 0.0  # seconds, the slowest of them
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._errors: set[str] = set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="siyu-wal-checkpoint",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and checkpoint once more, so the WAL a stopped bot leaves behind
        is already in the database file."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        self.checkpoint()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint()

    def checkpoint(self) -> int | None:
        """One PASSIVE checkpoint. The WAL pages it had to leave (a reader still needs them,
        or a writer was appending), or None when it failed."""
        started = time.perf_counter()
        try:
            if self._conn is None:
                # isolation_level=None: the PRAGMA must not run inside a transaction.
                self._conn = sqlite3.connect(self.path, timeout=0, isolation_level=None,
                                             check_same_thread=False)
            _busy, wal, copied = self._conn.execute(
                "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            reason = " ".join(str(exc).split())
            if reason not in self._errors:
                self._errors.add(reason)
                log.warning("%s: WAL 检查点失败，稍后重试 (%s)", self.path, reason)
            return None
        self.runs += 1
        self.longest = max(self.longest, time.perf_counter() - started)
        # wal = copied = -1: the file is not in WAL mode (another tool switched it).
        return max(0, wal - copied)
