"""Segmentation's columnar path on PostgreSQL as on SQLite: one generated community
(tests/test_segment_columns.py's) stored on both backends, the rows the tag rebuild keeps
for segmentation, the columns the bulk reader gives and the runs' documents compared.

PostgreSQL's tests skip without a server, except on CI (tests/pg.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pg import fresh_database, require_postgres
from sqlalchemy import text
from sqlalchemy.engine import Engine
from test_segment_columns import LABELS, _community

from handlers.personas import refresh_stale_tags
from handlers.settings import Settings
from storage.db import open_database
from storage.repo import Store

KEPT = {"member_keywords": "through_us, messages, words",
        "member_activity": "computed_us, messages, first_us, last_us, joined_us, recent",
        "member_tags": "computed_us, keys, numbers, intents"}


def built(url: str) -> Store:
    """The community stored at `url`, its tags rebuilt as an import leaves them."""
    store = Store(open_database(url))
    _community(store)
    refresh_stale_tags(store, Settings(db=url), LABELS)
    return store


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Store]]:
    """The same community on SQLite and on a fresh PostgreSQL database."""
    lite = built(f"sqlite:///{tmp_path_factory.mktemp('lite') / 'c.db'}")
    with fresh_database(require_postgres()) as url:
        pg = built(url)
        try:
            yield lite, pg
        finally:
            pg.engine.dispose()
            lite.engine.dispose()


def kept_rows(engine: Engine, table: str) -> dict[str, tuple[Any, ...]]:
    """A kept table's rows by member id (pks may differ between databases)."""
    with engine.connect() as conn:
        return {mid: tuple(bytes(v) if isinstance(v, memoryview) else v for v in rest)
                for mid, *rest in conn.execute(text(
                    f"SELECT m.member_id, {KEPT[table]} FROM {table} k "
                    "JOIN member m ON m.id = k.member_pk"))}


@pytest.mark.parametrize("table", list(KEPT))
def test_the_tag_rebuild_keeps_the_same_rows_on_postgresql(pair: tuple[Store, Store],
                                                           table: str) -> None:
    lite, pg = pair
    rows = kept_rows(lite.engine, table)
    assert len(rows) > 40  # most of the 80 members chat
    assert kept_rows(pg.engine, table) == rows
