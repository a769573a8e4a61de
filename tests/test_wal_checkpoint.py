"""The live bot's WAL checkpoints run in a thread of their own (storage/wal.py: WalCheckpointer).

On real SQLite files: the bot's engine leaves checkpoints to the thread (its connections only
checkpoint themselves past the backstop), the thread keeps the WAL copied into the database,
stops cleanly with the bot, and a failing checkpoint is logged once and retried.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.config import load_settings
from bot.runner import Bot
from bot.transports.console import ConsoleTransport
from storage.db import (
    AUTO_CHECKPOINT_PAGES,
    BACKSTOP_CHECKPOINT_PAGES,
    open_database,
    writing,
)
from storage.wal import WalCheckpointer

PAGE = 4096


def fill(engine: Engine, pages: int) -> None:
    """About `pages` WAL pages of writes, in transactions of ≈ 50 pages each."""
    with writing(engine) as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (b BLOB)"))
    for _ in range(pages // 50):
        with writing(engine) as conn:
            conn.execute(text("INSERT INTO filler VALUES (randomblob(:n))"), {"n": 50 * PAGE})


def wal_pages(db: Path) -> float:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size / PAGE if wal.exists() else 0.0


def uncopied(db: Path) -> int:
    """WAL frames not yet in the database file, as a second connection sees them."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        _busy, wal, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return wal - copied
    finally:
        conn.close()


def autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()


def test_the_bots_engine_leaves_checkpoints_to_the_thread(tmp_path: Path) -> None:
    plain = open_database(f"sqlite:///{tmp_path / 'plain.db'}")
    live = open_database(f"sqlite:///{tmp_path / 'live.db'}", background_checkpoints=True)
    assert autocheckpoint(plain) == AUTO_CHECKPOINT_PAGES
    assert autocheckpoint(live) == BACKSTOP_CHECKPOINT_PAGES
    fill(plain, 3000)
    fill(live, 3000)
    # The plain engine checkpointed on commit and restarted its WAL: it stays near 1,000
    # pages. The live one did not: all 3,000 pages are still in its WAL.
    assert wal_pages(tmp_path / "plain.db") < 1500
    assert wal_pages(tmp_path / "live.db") > 2900
    assert uncopied(tmp_path / "live.db") == 0  # (that PASSIVE checkpoint copied them)
    plain.dispose()
    live.dispose()


def test_the_thread_copies_the_wal_and_stops_with_a_last_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    engine = open_database(f"sqlite:///{db}", background_checkpoints=True)
    cp = WalCheckpointer(db, interval=0.05)
    cp.start()
    cp.start()  # a second start is a no-op, not a second thread
    assert [t.name for t in threading.enumerate()].count("siyu-wal-checkpoint") == 1
    fill(engine, 600)
    deadline = time.monotonic() + 10
    while cp.runs < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cp.runs >= 2 and cp.longest > 0
    fill(engine, 100)  # written after the last run the thread may have made
    cp.stop()
    assert "siyu-wal-checkpoint" not in [t.name for t in threading.enumerate()]
    assert uncopied(db) == 0
    cp.stop()  # stopping twice is harmless
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM filler")).scalar_one() == 14
    engine.dispose()


def test_a_failing_checkpoint_is_logged_once_and_tried_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "not-a-db.db"
    db.write_bytes(b"this is not a SQLite database, but a text file " * 100)
    cp = WalCheckpointer(db)
    with caplog.at_level(logging.WARNING, logger="siyu.storage"):
        assert cp.checkpoint() is None
        assert cp.checkpoint() is None
    warnings = [r.getMessage() for r in caplog.records if "WAL 检查点失败" in r.getMessage()]
    assert len(warnings) == 1 and str(db) in warnings[0]
    # The file becomes a database (restored, say): the next checkpoint works.
    db.unlink()
    engine = open_database(f"sqlite:///{db}", background_checkpoints=True)
    fill(engine, 100)
    assert cp.checkpoint() == 0 and cp.runs == 1
    engine.dispose()
    cp._conn.close()  # type: ignore[union-attr]


def test_a_bot_run_checkpoints_in_the_background_and_stops_the_thread(tmp_path: Path) -> None:
    cfg = tmp_path / "siyu.toml"
    cfg.write_text('[bot]\nmanagers = ["王经理"]\noperators = ["运营小美"]\n', encoding="utf-8")
    db = tmp_path / "bot.db"
    settings = load_settings(str(cfg), db=f"sqlite:///{db}")
    script = "".join(f"成员{i}: 我家宝宝{i % 12 + 1}个月了，有没有优惠？\n" for i in range(40))
    bot = Bot(settings, ConsoleTransport(stdin=io.StringIO(script), stdout=io.StringIO()))
    assert bot.checkpointer is not None and bot.checkpointer.path == db
    asyncio.run(bot.run())
    assert autocheckpoint(bot.app.store.engine) == BACKSTOP_CHECKPOINT_PAGES
    assert "siyu-wal-checkpoint" not in [t.name for t in threading.enumerate()]
    assert bot.checkpointer.runs >= 1  # at least the last one, at shutdown
    assert uncopied(db) == 0
    with bot.app.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM message")).scalar_one() == 40


def test_a_bot_on_an_in_memory_database_has_no_checkpointer(tmp_path: Path) -> None:
    cfg = tmp_path / "siyu.toml"
    cfg.write_text('[bot]\nmanagers = ["王经理"]\n', encoding="utf-8")
    settings = load_settings(str(cfg), db="sqlite://")
    bot = Bot(settings, ConsoleTransport(stdin=io.StringIO(""), stdout=io.StringIO()))
    assert bot.checkpointer is None
