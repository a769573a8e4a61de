"""Rebuilding stored tags while other processes write: only consumed stale flags are cleared.

Two `Store`s on one SQLite file are two connections, as two processes would have: one runs
`refresh_stale_tags`, the other stores a new message for the same member in the middle of the
rebuild. The rebuild must not swallow that message's stale flag, and a rebuild that dies half
way must leave its members for the next one.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from test_storage import T0, batch, msg

from handlers.personas import refresh_stale_tags
from handlers.settings import Settings
from storage.db import open_database
from storage.repo import Store

LABELS = {"travel": "旅行"}


def stores(tmp_path: Path) -> tuple[Store, Store]:
    url = f"sqlite:///{tmp_path / 't.db'}"
    return Store(open_database(url)), Store(open_database(url))


def stale_flags(tmp_path: Path) -> list[tuple[str, int]]:
    con = sqlite3.connect(tmp_path / "t.db")
    try:
        return con.execute("SELECT member_id, tags_stale FROM member ORDER BY id").fetchall()
    finally:
        con.close()


def evidence(store: Store, member_pk: int) -> set[str]:
    return {e for t in store.tags_for([member_pk], "derived").get(member_pk, [])
            for e in t.evidence}


def test_a_message_stored_during_the_rebuild_keeps_its_member_stale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refresher, writer = stores(tmp_path)
    writer.write_batch(batch(msg("m1"), msg("m2", sender="wxid_b")))
    (pk_a, pk_b) = [m.pk for m in writer.members()]

    load = Store.message_history
    interleaved: list[str] = []

    def load_then_let_the_other_process_write(self: Store, *args: object, **kw: object):
        out = load(self, *args, **kw)
        if not interleaved:  # the refresher has read wxid_a's messages; now m3 arrives
            interleaved.append("m3")
            writer.write_batch(batch(msg("m3", minutes=-5)))
        return out

    monkeypatch.setattr(Store, "message_history", load_then_let_the_other_process_write)
    assert refresh_stale_tags(refresher, Settings(), LABELS) == 2
    assert interleaved == ["m3"]
    # wxid_b is done; wxid_a's tags were computed without m3, so she must still be stale.
    assert refresher.stale_members() == [pk_a]
    assert "m3" not in evidence(refresher, pk_a)

    monkeypatch.setattr(Store, "message_history", load)
    assert refresh_stale_tags(refresher, Settings(), LABELS) == 1
    assert "m3" in evidence(refresher, pk_a)
    assert refresher.stale_members() == [] and stale_flags(tmp_path) == [("wxid_a", 0),
                                                                         ("wxid_b", 0)]
    assert pk_b not in refresher.stale_members()


def test_a_rebuild_that_dies_after_claiming_leaves_its_members_for_the_next(
        tmp_path: Path) -> None:
    store, _ = stores(tmp_path)
    store.write_batch(batch(msg("m1"), msg("m2", sender="wxid_b", minutes=1)))
    claimed = store.stale_members()  # what a rebuild does first; then the process dies
    assert len(claimed) == 2
    # The flags are consumed by the claim, but the claim itself is durable.
    assert stale_flags(tmp_path) == [("wxid_a", 0), ("wxid_b", 0)]
    assert Store(open_database(f"sqlite:///{tmp_path / 't.db'}")).stale_members() == claimed
    assert refresh_stale_tags(store, Settings(), LABELS) == 2
    assert store.stale_members() == []
    assert all(evidence(store, pk) for pk in claimed)


def test_nothing_to_do_twice(tmp_path: Path) -> None:
    store, _ = stores(tmp_path)
    store.write_batch(batch(msg("m1", minutes=2)))
    assert refresh_stale_tags(store, Settings(), LABELS) == 1
    assert refresh_stale_tags(store, Settings(), LABELS) == 0
    assert T0 + timedelta(minutes=2) == store.members()[0].last_active


def test_rebuild_chunks_cut_by_messages_keep_order_and_members() -> None:
    from handlers.personas import _rebuild_chunks

    sizes = {1: 3, 2: 0, 3: 5, 4: 1, 5: 9}  # member 6 has no messages at all
    chunks = list(_rebuild_chunks([1, 2, 3, 4, 5, 6], sizes))
    assert [pk for c in chunks for pk in c] == [1, 2, 3, 4, 5, 6]
    assert all(sum(sizes.get(pk, 0) for pk in c) <= 250_000 for c in chunks)
    assert chunks == [[1, 2, 3, 4, 5, 6]]  # a small community is one chunk, one table scan


def test_small_chunks_give_the_same_tags_as_one(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunking is about memory only: chunks of one message or one member store the same
    tags and kept keywords as a single chunk."""
    import handlers.personas as personas

    def run(name: str) -> list[tuple[object, ...]]:
        url = f"sqlite:///{tmp_path / name}"
        store = Store(open_database(url))
        store.write_batch(batch(msg("m1"), msg("m2", minutes=5), msg("m3", sender="wxid_b"),
                                msg("m4", sender="wxid_c", minutes=-9),
                                msg("m5", sender="wxid_b", minutes=3)))
        assert refresh_stale_tags(store, Settings(), LABELS) == 3
        con = sqlite3.connect(tmp_path / name)
        try:
            return (con.execute("SELECT member_pk, code, score, evidence FROM tag "
                                "ORDER BY member_pk, code").fetchall()
                    + con.execute("SELECT * FROM member_keywords ORDER BY member_pk")
                    .fetchall())
        finally:
            con.close()

    whole = run("one.db")
    monkeypatch.setattr(personas, "REBUILD_CHUNK_MESSAGES", 1)
    assert run("by-message.db") == whole
    monkeypatch.setattr(personas, "REBUILD_CHUNK_MESSAGES", 250_000)
    monkeypatch.setattr(personas, "REBUILD_CHUNK_MEMBERS", 1)
    assert run("by-member.db") == whole
    assert len(whole) > 3


def test_bulk_paths_pause_automatic_gc_and_restore_it() -> None:
    import gc

    from handlers.bulk import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError
    assert gc.isenabled()


def five_members(tmp_path: Path) -> Store:
    store = Store(open_database(f"sqlite:///{tmp_path / 't.db'}"))
    store.write_batch(batch(*[msg(f"m{i}", sender=f"wxid_{i % 5}", minutes=i)
                              for i in range(12)]))
    return store


def test_refresh_steps_go_chunk_by_chunk_and_a_stopped_one_loses_nothing(
        tmp_path: Path) -> None:
    from handlers.personas import refresh_steps

    store = five_members(tmp_path)
    steps = refresh_steps(store, Settings(), LABELS, chunk_members=2)
    assert next(steps) == 0  # the claims first: a step of their own
    assert next(steps) == 2
    steps.close()  # the bot stops here (or the process dies)
    # the three members not reached stay claimed, and the next refresh takes them
    assert store.stale_members() == [3, 4, 5]
    assert list(refresh_steps(store, Settings(), LABELS, chunk_members=2)) == [0, 2, 1]
    assert refresh_stale_tags(store, Settings(), LABELS) == 0
    assert all(store.tags_for([pk], "derived").get(pk) for pk in range(1, 6))


def test_the_bots_scheduled_refresh_lets_messages_in_between_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The minutely refresh runs on the event loop that handles messages: between two chunks
    the loop must get to run other work (a message's handler), not wait for the whole
    rebuild."""
    import asyncio
    import io

    import bot.runner as runner
    from bot.config import load_settings
    from bot.transports.console import ConsoleTransport

    five_members(tmp_path).engine.dispose()
    cfg = tmp_path / "siyu.toml"
    cfg.write_text('[bot]\nmanagers = ["王经理"]\n', encoding="utf-8")
    bot = runner.Bot(load_settings(str(cfg), db=f"sqlite:///{tmp_path / 't.db'}"),
                     ConsoleTransport(stdin=io.StringIO(""), stdout=io.StringIO()))
    seen: list[str] = []
    steps = runner.refresh_steps

    def traced(*args: object, **kw: object):
        for n in steps(*args, **kw):
            seen.append(f"chunk {n}")
            yield n

    async def main() -> None:
        async def other_work() -> None:
            while not seen or seen[-1] != "done":
                seen.append("loop ran")
                await asyncio.sleep(0)

        async def refresh() -> None:
            await bot.refresh_live()
            seen.append("done")

        await asyncio.gather(refresh(), other_work())

    monkeypatch.setattr(runner, "refresh_steps", traced)
    monkeypatch.setattr(runner, "LIVE_REFRESH_MEMBERS", 2)
    asyncio.run(main())
    chunks = [s for s in seen if s.startswith("chunk")]
    assert chunks == ["chunk 0", "chunk 2", "chunk 2", "chunk 1"]
    # after every chunk but the last, the loop ran something else before the next one
    for i, s in enumerate(seen[:-1]):
        if s.startswith("chunk") and s != chunks[-1]:
            assert seen[i + 1] == "loop ran"
    assert bot.app.store.stale_members() == []
