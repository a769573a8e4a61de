"""Stored segmentation runs: the summary document plus one member_segment row per member.

Every member's assignment is kept in the rows only (not inside the document too); these tests
pin that the run still reads back whole — as the previous run of the next one (same changes
and circle codes as from the in-memory result), as `siyu report --json`'s full document — that
runs stored the old way (assignments inline) still load, and that erasure leaves no trace of
a member in either place.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_segment_columns import LABELS, _community

from handlers.personas import refresh_stale_tags
from handlers.segments import run_and_store, run_document, segment_params
from handlers.settings import Settings
from persona.segment import run_segmentation
from persona.segment_result import STORED_FORMAT_VERSION, SegmentResult
from storage.db import open_database
from storage.privacy import PrivacyStore
from storage.repo import Store
from storage.segments import SegmentStore, json_text, stored_document


@pytest.fixture()
def community(tmp_path: Path) -> tuple[Store, Settings, datetime]:
    settings = Settings(db=f"sqlite:///{tmp_path / 's.db'}")
    store = Store(open_database(settings.db))
    _community(store, n=70, seed=9)
    refresh_stale_tags(store, settings, LABELS)
    newest = store.latest_message_ts()
    assert newest is not None
    return store, settings, newest


def _canon(doc: object) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


def test_stored_run_keeps_assignments_in_rows_and_reads_back_whole(
        community: tuple[Store, Settings, datetime]) -> None:
    store, settings, newest = community
    outcome = run_and_store(store, settings, LABELS, newest)
    runs = SegmentStore(store.engine)
    stored = runs.latest_run()
    assert stored is not None and stored.id == outcome.run_id
    assert "assignments" not in stored.result
    assert stored.result["version"] == STORED_FORMAT_VERSION
    full = outcome.result.to_json()
    dynamic = {m: a["dynamic_tags"] for m, a in full["assignments"].items() if a["dynamic_tags"]}
    # only the members with dynamic tags, in the compact form
    assert dynamic and set(stored.result["dynamic_tags"]) == set(dynamic)
    assert all(isinstance(r, list) and len(r) == 4 and isinstance(r[2], int)
               for rows in stored.result["dynamic_tags"].values() for r in rows)
    # the full document, as `siyu segment --json` printed it, from the document and the rows
    assert _canon(run_document(store, stored)) == _canon(full)
    back = runs.result_of(stored)
    assert _canon(back.to_json()) == _canon(full)


def test_next_run_compares_against_the_stored_previous_as_against_the_result(
        community: tuple[Store, Settings, datetime]) -> None:
    store, settings, newest = community
    first = run_and_store(store, settings, LABELS, newest)
    later = newest + timedelta(days=20)
    second = run_and_store(store, settings, LABELS, later)
    assert second.result.changes is not None
    assert second.result.changes["moves"]["lifecycle"]["moved"] > 0
    # the same run against the first result straight from memory
    from handlers.personas import category_namer
    from handlers.segments import gather_columns

    _, cols = gather_columns(store, settings, LABELS, later)
    want = run_segmentation(cols, later, segment_params(settings),
                            previous=SegmentResult.from_json(first.result.to_json()),
                            half_life_days=settings.half_life_days,
                            category_interests=category_namer(settings))
    assert _canon(second.result.to_json()) == _canon(want.to_json())


def test_a_run_stored_with_inline_assignments_still_loads(
        community: tuple[Store, Settings, datetime]) -> None:
    """Runs stored before the rows were the only copy: the document is used as it is."""
    store, settings, newest = community
    outcome = run_and_store(store, settings, LABELS, newest)
    runs = SegmentStore(store.engine)
    full = outcome.result.to_json()
    members = {m.member_id: m.pk for m in store.members()}
    old_id = runs.save_run(newest, datetime.now(UTC), segment_params(settings).to_json(),
                           json_text(full), [(members[m], a) for m, a in
                                             full["assignments"].items()])
    old = runs.latest_run()
    assert old is not None and old.id == old_id
    assert _canon(run_document(store, old)) == _canon(full)
    assert _canon(runs.result_of(old).to_json()) == _canon(full)
    again = run_and_store(store, settings, LABELS, newest)
    assert again.result.changes is not None
    assert again.result.changes["clusters"]["ari"] == 1.0


def test_forgetting_a_member_removes_their_row_and_dynamic_tags(
        community: tuple[Store, Settings, datetime]) -> None:
    store, settings, newest = community
    outcome = run_and_store(store, settings, LABELS, newest)
    runs = SegmentStore(store.engine)
    stored = runs.latest_run()
    assert stored is not None
    who = next(iter(stored.result["dynamic_tags"]))
    pk = next(m.pk for m in store.members() if m.member_id == who)
    PrivacyStore(store.engine).forget_member(pk)
    stored = runs.latest_run()
    assert stored is not None
    assert who not in stored.result["dynamic_tags"]
    doc = run_document(store, stored)
    assert who not in doc["assignments"]
    assert len(doc["assignments"]) == len(outcome.result.member_ids) - 1
    assert who not in json.dumps(doc, ensure_ascii=False)
    # and the next run still compares against it
    again = run_and_store(store, settings, LABELS, newest)
    assert again.result.changes is not None
    assert again.result.changes["members"]["left"] == 0


@pytest.mark.parametrize("members", [0, 1, 2, 3, 4, 5])
def test_the_stored_document_is_encoded_a_chunk_at_a_time_as_at_once(members: int) -> None:
    """stored_document gives json_text's bytes of the whole document, whatever the number
    of items against the chunk size (none, short of one chunk, exactly chunks, one over)."""
    summary = {"version": 2, "labels": {"value": {"high": "高价值"}}, "changes": None}
    items = [(f"m{i:03d}", [["recently_asked", "近期提问", 1790000000 + i, [f"e{i}", "x\"y"]]])
             for i in range(members)]
    want = json_text({**summary, "dynamic_tags": dict(items)}).encode()
    assert stored_document(summary, "dynamic_tags", iter(items), chunk=2) == want


def test_a_runs_stored_document_is_its_stored_json(
        community: tuple[Store, Settings, datetime]) -> None:
    store, settings, newest = community
    result = run_and_store(store, settings, LABELS, newest).result
    assert sum(1 for d in result.dynamic_tags if d) > 7
    doc = stored_document(result.stored_summary(), "dynamic_tags", result.dynamic_rows(),
                          chunk=7)
    assert doc == json_text(result.to_stored_json()).encode()
    stored = SegmentStore(store.engine).latest_run()
    assert stored is not None and json_text(stored.result).encode() == doc
    with store.engine.connect() as conn:  # stored as text, those very bytes
        kind, raw = conn.exec_driver_sql("SELECT typeof(result), CAST(result AS BLOB) FROM "
                                         "segment_run WHERE id = ?", (stored.id,)).one()
    assert kind == "text" and raw == doc


_NO_TABLE_LEFT = """
import gc, sys
from datetime import datetime
from bot.app import App
from handlers.segments import run_and_store
from handlers.settings import Settings

settings = Settings(db=sys.argv[1])
app = App(settings)
assert "jieba" not in sys.modules, "jieba imported before the run: nothing to show"
gc.disable()
outcome = run_and_store(app.store, settings, app.labels, datetime.fromisoformat(sys.argv[2]))
left = [type(o).__name__ for o in gc.get_objects()
        if type(o).__name__ in ("MemberTable", "MemberColumns")]
print(len(outcome.result.member_ids), left)
"""


def test_a_first_run_in_a_process_leaves_no_member_table_behind(
        community: tuple[Store, Settings, datetime]) -> None:
    """A run's member table (hundreds of MB at a million members) is gone once segmented,
    even on a process's first run, which loads the phrase dictionary and imports jieba, with
    the collector paused (an import inside clustering once kept its frames and the table)."""
    _, settings, newest = community
    proc = subprocess.run([sys.executable, "-c", _NO_TABLE_LEFT, settings.db, newest.isoformat()],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["70", "[]"]
