"""Segmentation's columnar path on PostgreSQL as on SQLite: one generated community
(tests/test_segment_columns.py's) stored on both backends, the rows the tag rebuild keeps
for segmentation, the columns the bulk reader gives and the runs' documents compared.

PostgreSQL's tests skip without a server, except on CI (tests/pg.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import siyu
from pg import fresh_database, require_postgres
from sqlalchemy import text
from sqlalchemy.engine import Engine
from test_segment_columns import LABELS, NOW, _community

import handlers.privacy
import handlers.segments
from handlers.personas import refresh_stale_tags
from handlers.segments import (
    MAX_KEYWORDS,
    MAX_QUOTES,
    QUOTE_INTENTS,
    gather_columns,
    member_detail,
    segment_params,
)
from handlers.settings import Settings
from persona.segment import run_segmentation
from persona.signals import Signals
from storage.batches import Batch, NewMessage
from storage.db import open_database
from storage.repo import Store
from storage.segment_inputs import ColumnReader
from storage.segments import SegmentStore, json_text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "bot" / "data" / "sample"

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


def run_document(store: Store, as_of: datetime) -> str:
    """A run's result document from the columns (cards' quotes, chats, keywords and join
    channels included), as text."""
    settings = Settings(db=store.engine.url.render_as_string(hide_password=False))
    _, cols = gather_columns(store, settings, LABELS, as_of)
    result = run_segmentation(cols, as_of, segment_params(settings),
                              half_life_days=settings.half_life_days)
    return json.dumps(result.to_json(), ensure_ascii=False)


@pytest.fixture
def columns_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-member path refused: a run must take the columnar one on both backends."""

    def refuse(*_args: Any) -> None:
        raise AssertionError("gather_inputs: the per-member path was taken")

    monkeypatch.setattr(handlers.segments, "gather_inputs", refuse)


@pytest.mark.parametrize("shift_days", [0.0, 12.5, -9.0])
def test_postgresql_reads_the_columns_sqlite_reads(pair: tuple[Store, Store], shift_days: float,
                                                   columns_only: None) -> None:
    """As of the newest fact (kept rows and stored tags), 12.5 days later (projected) and 9
    days earlier (every member's tags unusable: rebuilt): the same document."""
    lite, pg = pair
    assert ColumnReader(pg.engine).supported
    as_of = NOW + timedelta(days=shift_days)
    doc = run_document(lite, as_of)
    assert '"quotes"' in doc and "邀请:小禾助手" in doc  # cards with their text parts
    assert run_document(pg, as_of) == doc


@pytest.mark.parametrize("gone", [7, None])
def test_members_without_kept_rows_are_counted_alike(pair: tuple[Store, Store], gone: int | None,
                                                    columns_only: None) -> None:
    """Kept rows missing for a few members (counted through the member index, in lists of
    pks) or for everyone (one pass over the message and tag tables): SQL counts them the
    same on both backends. Runs last: the counts are kept again, as a run keeps them."""
    lite, pg = pair
    for store in pair:
        with store.engine.begin() as conn:
            for table in KEPT:
                where = "" if gone is None else f" WHERE member_pk % {gone} = 0"
                conn.execute(text(f"DELETE FROM {table}{where}"))
    doc = run_document(lite, NOW)
    assert run_document(pg, NOW) == doc


def test_siyu_segment_and_personas_print_the_same_on_both_backends(tmp_path: Path) -> None:
    """The shipped sample community imported on each backend: `siyu segment --json` and
    `siyu personas --json` print the same bytes."""
    as_of = "2026-11-20T18:08:00+08:00"
    files = sorted(str(p) for p in SAMPLE.glob("*.json"))
    with fresh_database(require_postgres()) as url:
        out: dict[str, tuple[str, str]] = {}
        for db in (f"sqlite:///{tmp_path / 'lite.db'}", url):
            siyu("--db", db, "ingest", *files, cwd=tmp_path)
            siyu("--db", db, "import-orders", str(SAMPLE / "orders.csv"), cwd=tmp_path)
            out[db] = tuple(siyu("--db", db, cmd, "--json", "--as-of", as_of,
                                 cwd=tmp_path).stdout for cmd in ("segment", "personas"))
        lite, pg = out.values()
        assert '"clusters"' in lite[0] and '"members"' in lite[1]
        assert pg == lite


def test_ties_of_one_moment_go_by_insertion_order(any_engine: Engine) -> None:
    """Three messages of one second in three chats, in a batch whose order their ids do
    not sort in: keywords, chats and quotes tie on count and time, and SQL breaks the ties
    by insertion (rowid, ctid), as the per-member path does by the order it read them.

    Insertion is the batch's order on SQLite; on PostgreSQL the ingest inserts a batch in
    key order (storage/batches.py: `_insert_new`, so concurrent writers never deadlock)."""
    store = Store(any_engine)
    chats = {"c1": "一群", "c2": "二群", "c3": "三群"}
    words = ("甲", "乙", "丙")
    batch = Batch(chats={c: (n, True, "wechat") for c, n in chats.items()},
                  people={("wechat", "wxid_tie"): "同秒"})
    for mid, chat, word in zip(("z", "y", "x"), chats, words, strict=True):
        batch.messages.append(NewMessage(mid, chat, "wechat", "wxid_tie", NOW, "text",
                                         f"{word}怎么样？", {"k": [word], "n": ["question"]},
                                         "t"))
    store.write_batch(batch)
    pk = store.members()[0].pk
    reader = ColumnReader(any_engine)
    names = store.chat_names()
    detail = reader.details([pk], NOW, names, QUOTE_INTENTS, MAX_QUOTES, MAX_KEYWORDS)[pk]
    stored = store.messages_for([pk])[pk]
    want = member_detail(stored, [Signals.from_json(m.signals) for m in stored], names)
    inserted = [0, 1, 2] if any_engine.dialect.name == "sqlite" else [2, 1, 0]
    assert detail.keywords == want.keywords == tuple(words[i] for i in inserted)
    assert detail.chats == want.chats == tuple(list(chats.values())[i] for i in inserted)
    assert [q.id for q in detail.quotes] == [q.id for q in want.quotes] \
        == [("z", "y", "x")[i] for i in inserted]
    assert reader._count_keywords([pk], reader.sql.time(NOW), MAX_KEYWORDS) == {
        pk: list(detail.keywords)}


def test_the_readers_run_without_jit_and_leave_the_pool_as_it_was(
        pair: tuple[Store, Store]) -> None:
    """PostgreSQL's planner guesses 100 elements per json_array_elements call, so a card
    sample's keyword count (a few hundred messages) looked costly enough to JIT-compile:
    ≈ 1 s a query on a server with the default settings, 12 s of a 100k-member run. The
    readers turn JIT off for their own transaction, not for the pool's connection."""
    _, pg = pair
    with pg.engine.connect() as conn:
        before = conn.execute(text("SHOW jit")).scalar()
    reader = ColumnReader(pg.engine)
    seen = [row for chunk in reader._rows("SELECT current_setting('jit')", {}) for row in chunk]
    assert seen == [("off",)]
    with pg.engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar() == before


def test_a_stored_runs_codes_read_back_with_one_object_per_code(any_engine: Engine) -> None:
    """What the next run compares with: a stored run's codes in member-id order, every member
    with a code sharing one string object for it (a million members' five million separate
    code strings stayed resident through the comparing run's peak)."""
    store, settings = _tagged_community(any_engine)
    outcome = handlers.segments.run_and_store(store, settings, LABELS, NOW)
    back = SegmentStore(any_engine).assignments(outcome.run_id)
    result = outcome.result
    assert back.member_ids == result.member_ids
    for field in ("value", "lifecycle", "motivation", "layer", "cluster"):
        codes = getattr(back, field)
        assert codes == list(getattr(result, field)), field
        assert len({id(c) for c in codes}) == len(set(codes)), field


def _tagged_community(engine: Engine) -> tuple[Store, Settings]:
    """The shared community stored on this backend, its tags built: ready to segment."""
    store = Store(engine)
    _community(store)
    settings = Settings(db=engine.url.render_as_string(hide_password=False))
    refresh_stale_tags(store, settings, LABELS)
    return store, settings


def test_a_runs_circle_names_are_read_without_its_document(any_engine: Engine) -> None:
    """A persona shown to a person names her circle from the newest run up to the moment
    asked (handlers/personas.py: circle_labels), read by the database out of the stored
    document on either backend, and none before the first run."""
    store, settings = _tagged_community(any_engine)
    runs = SegmentStore(any_engine)
    assert runs.circle_names(NOW) == {}
    outcome = handlers.segments.run_and_store(store, settings, LABELS, NOW)
    names = outcome.result.to_json()["labels"]["cluster"]
    assert names and runs.circle_names(NOW) == names
    assert runs.circle_names(NOW - timedelta(seconds=1)) == {}


def test_the_run_compared_with_is_read_without_its_dynamic_tags(any_engine: Engine) -> None:
    """The next run compares with the newest stored one (`SegmentStore.comparable`): its
    document as stored, keys in their order, but the members' dynamic tags (nearly all of a
    large run's document, and nothing comparing reads them), dropped by the database on
    either backend; its codes, circles and next circle code as the whole run's."""
    store, settings = _tagged_community(any_engine)
    runs = SegmentStore(any_engine)
    assert runs.comparable(NOW) is None
    outcome = handlers.segments.run_and_store(store, settings, LABELS, NOW)
    assert outcome.previous is None
    whole = runs.latest_run(until=NOW)
    found = runs.comparable(NOW)
    assert whole is not None and found is not None
    run, result = found
    assert run[:4] == whole[:4] and run.id == outcome.run_id
    assert whole.result["dynamic_tags"]
    # stored from its UTF-8 bytes (storage.segments.stored_document), read back the same
    assert json_text(whole.result) == json_text(outcome.result.to_stored_json())
    assert list(run.result.items()) == [
        (k, v) for k, v in whole.result.items() if k != "dynamic_tags"]
    full = runs.result_of(whole)
    for field in ("member_ids", "value", "lifecycle", "motivation", "layer", "cluster",
                  "circles", "next_cluster_code", "as_of", "params"):
        assert getattr(result, field) == getattr(full, field), field
    assert any(full.dynamic_tags) and not any(result.dynamic_tags)
    assert runs.comparable(NOW - timedelta(seconds=1)) is None
    again = handlers.segments.run_and_store(store, settings, LABELS, NOW)
    assert again.previous == run
    assert again.result.changes is not None and again.result.changes["clusters"]["ari"] == 1.0
    # an erasure recomputing the second run compares it with the first, never with itself
    assert runs.comparable(NOW, before_id=again.run_id)[0].id == run.id
    assert runs.comparable(NOW, before_id=run.id) is None
    before = runs.latest_run(until=NOW)
    handlers.privacy.recompute_runs(store, settings, LABELS, [again.run_id])
    after = runs.latest_run(until=NOW)
    # recomputed with nothing erased, stored from its UTF-8 bytes: the same document
    assert after.id == again.run_id and json_text(after.result) == json_text(before.result)


def test_member_rows_go_with_their_run_and_with_an_erased_member(any_engine: Engine) -> None:
    """A run's member rows are deleted with the run (prune) and an erased member's with the
    member, on either backend, leaving no row whose run or member is gone (the foreign keys
    would refuse one; the code does not rely on that to delete them)."""
    from storage.privacy import PrivacyStore

    store, settings = _tagged_community(any_engine)
    first = handlers.segments.run_and_store(store, settings, LABELS, NOW)
    second = handlers.segments.run_and_store(store, settings, LABELS, NOW + timedelta(days=1))
    with any_engine.connect() as conn:
        pk = conn.execute(text("SELECT member_pk FROM member_segment WHERE run_id = :r "
                               "LIMIT 1"), {"r": second.run_id}).scalar()
    PrivacyStore(any_engine).forget_member(pk)
    runs = SegmentStore(any_engine)
    assert runs.prune(1) == (1, len(first.result.member_ids) - 1)
    orphans = ("SELECT count(*) FROM member_segment s WHERE NOT EXISTS (SELECT 1 FROM "
               "segment_run r WHERE r.id = s.run_id) OR NOT EXISTS (SELECT 1 FROM member m "
               "WHERE m.id = s.member_pk)")
    with any_engine.connect() as conn:
        assert conn.execute(text(orphans)).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM member_segment WHERE member_pk = :pk"),
                            {"pk": pk}).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM member_segment")).scalar() == len(
            second.result.member_ids) - 1
