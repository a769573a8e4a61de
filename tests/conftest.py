"""Fixtures shared by test modules that check one behaviour on both backends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg import fresh_database, require_postgres
from sqlalchemy.engine import Engine

from storage.db import open_database


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Both backends, for behaviour that must be the same on each (and is checked on each):
    a SQLite file, then a fresh PostgreSQL database (skipped or failed by tests/pg.py's rule)."""
    if request.param == "sqlite":
        eng = open_database(f"sqlite:///{tmp_path / 't.db'}")
        yield eng
        eng.dispose()
        return
    with fresh_database(require_postgres()) as url:
        eng = open_database(url)
        yield eng
        eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A copy of the 13a4b61 database (tests/data/migrations), on each backend: what every
    revision since must upgrade without losing a row."""
    from tests.test_migrations import DATA, load_pg_dump

    if request.param == "sqlite":
        shutil.copy(DATA / "siyu-13a4b61.db", tmp_path / "old.db")
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_database(require_postgres()) as url:
        load_pg_dump(url)
        yield url
