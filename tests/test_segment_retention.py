"""Stored segmentation runs do not pile up: `[segment] keep_runs` (issue 18, item 2).

On both backends: the newest runs by as-of stay whole, older ones lose their member rows and
their own row (in chunks, so a big run never holds SQLite's write lock in one go), protected
runs stay whatever their age; through `run_and_store` the new run and the one it compared
with always stay, and a wrong setting is refused before any work.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from test_postgres import batch, msg
from test_segment_columns import LABELS, _community

import storage.segments
from handlers.personas import refresh_stale_tags, segment_params
from handlers.segments import latest_or_new, run_and_store
from handlers.settings import ConfigError, Settings, keep_runs
from storage.db import open_database
from storage.models import MEMBER_SEGMENT, RUN
from storage.repo import Store
from storage.segments import SegmentStore


def _rows(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(MEMBER_SEGMENT.c.run_id, func.count())
                                 .group_by(MEMBER_SEGMENT.c.run_id)).all())


def _runs(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(RUN.c.id)).all())


def test_prune_keeps_the_newest_by_as_of_and_the_protected(
        any_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two rows a chunk: every run here takes several chunks, as a big one does.
    monkeypatch.setattr(storage.segments, "_ROWS_PER_DELETE", 2)
    store = Store(any_engine)
    store.write_batch(batch(*(msg(f"m{i}", f"wxid_{i}", i) for i in range(5))))
    pks = [m.pk for m in store.members()]
    runs = SegmentStore(any_engine)
    t0 = msg("x").ts
    # Stored out of order: ids do not follow as-of (a run for a past moment came later).
    as_of_days = [3, 1, 5, 0, 4, 2]
    ids = [runs.save_run(t0 + timedelta(days=d), t0, {}, {"cards": []},
                         {pk: {"value": "general"} for pk in pks}) for d in as_of_days]
    by_day = dict(zip(as_of_days, ids, strict=True))
    assert runs.prune(10) == (0, 0) and len(_runs(any_engine)) == 6
    deleted = runs.prune(3, protect={by_day[0]})
    assert deleted == (2, 2 * len(pks))
    kept = {by_day[5], by_day[4], by_day[3], by_day[0]}
    assert set(_runs(any_engine)) == kept
    assert _rows(any_engine) == {i: len(pks) for i in kept}
    latest = runs.latest_run()
    assert latest is not None and latest.id == by_day[5]
    assert runs.prune(2) == (2, 2 * len(pks))
    assert set(_runs(any_engine)) == {by_day[5], by_day[4]}
    assert runs.member_segments(by_day[4]) == {pk: {"value": "general", "lifecycle": None,
                                                    "motivation": None, "layer": None,
                                                    "cluster": None} for pk in pks}


def _settings(tmp_path: Path, keep: object = None) -> Settings:
    sections = {} if keep is None else {"segment": {"keep_runs": keep}}
    return Settings(db=f"sqlite:///{tmp_path / 's.db'}", sections=sections)


def test_keep_runs_is_checked(tmp_path: Path) -> None:
    assert keep_runs(_settings(tmp_path)) == 4
    assert keep_runs(_settings(tmp_path, 2)) == 2
    for bad in (1, 0, -3, 2.5, "3", True):
        with pytest.raises(ConfigError, match="keep_runs"):
            keep_runs(_settings(tmp_path, bad))
    # not a run parameter: the run's own table still refuses unknown keys
    assert "keep_runs" not in segment_params(_settings(tmp_path, 3)).to_json()


def test_run_and_store_prunes_after_storing(tmp_path: Path) -> None:
    settings = _settings(tmp_path, 2)
    store = Store(open_database(settings.db))
    _community(store, n=30, seed=4)
    refresh_stale_tags(store, settings, LABELS)
    newest = store.latest_message_ts()
    assert newest is not None
    members = len(store.members())
    ids = [run_and_store(store, settings, LABELS, newest + timedelta(hours=h)).run_id
           for h in range(4)]
    assert _runs(store.engine) == ids[-2:]
    assert _rows(store.engine) == {ids[2]: members, ids[3]: members}
    # The report still has its latest run and the one before it.
    latest, before = latest_or_new(store, settings, LABELS, newest + timedelta(hours=5))
    assert (latest.id, before.id if before else None) == (ids[3], ids[2])
    # A run for a past moment stays (and so does the one it was compared with), even though
    # both are older than what keep_runs would keep.
    past = run_and_store(store, settings, LABELS, newest - timedelta(hours=1))
    assert past.previous is None and past.run_id in _runs(store.engine)
    back = run_and_store(store, settings, LABELS, newest - timedelta(minutes=30))
    assert back.previous is not None and back.previous.id == past.run_id
    assert _runs(store.engine) == [*ids[2:], past.run_id, back.run_id]
    # The next run at the newest moment keeps only the newest two again.
    last = run_and_store(store, settings, LABELS, newest + timedelta(hours=6))
    assert _runs(store.engine) == [ids[3], last.run_id]
    with pytest.raises(ConfigError, match="keep_runs"):
        run_and_store(store, _settings(tmp_path, 1), LABELS, newest)
