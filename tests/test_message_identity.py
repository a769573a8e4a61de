"""A message is (chat, platform message id) — issue 16, item 2 — on the live path and in a
database upgraded from 13a4b61 (revision 0004), on SQLite and PostgreSQL.

The file imports are pinned in tests/test_sources_hostile.py (two chats numbering 1..5) and
generated in tests/test_hostile_corpus.py (ids colliding across chats and platforms).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from pg import fresh_database, require_postgres
from sqlalchemy import create_engine, inspect, text

from bot.app import App
from handlers.events import MessageEvent, MessageType
from handlers.ingest import Ingestor, IngestReport
from handlers.live import Live, Recipients
from handlers.settings import Settings
from storage import migrations
from storage.db import make_engine, open_database, writing

T0 = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    with fresh_database(require_postgres()) as url:
        yield url


def said(mid: str, chat: str, sender: str, text: str, minutes: int = 0) -> MessageEvent:
    return MessageEvent(id=mid, ts=T0 + timedelta(minutes=minutes), chat=chat, sender=sender,
                        type=MessageType.TEXT, text=text, chat_name=chat, is_group=True)


def app_ingest(app: App, events: list[MessageEvent]) -> IngestReport:
    ingestor = Ingestor(app.store, app.analyzer, app.settings, app.labels)
    return ingestor.finish(ingestor.ingest(events))


def stored(app: App) -> dict[tuple[str, str], str | None]:
    return {(m.chat_id, m.id): m.text for ms in app.store.messages_for().values() for m in ms}


def test_a_redelivered_live_message_is_stored_once_and_ids_are_per_chat(any_url: str) -> None:
    """Wechaty re-sends after a reconnect: the copy (same chat, same id) is a duplicate. The
    same id in another chat is another message, never a duplicate or a conflict."""
    app = App(Settings(db=any_url))
    try:
        live = Live(app.store, app.analyzer, app.settings, app.labels, Recipients())
        first = said("1001", "g1@chatroom", "wxid_a", "有没有优惠？")
        live.on_message(first)
        live.on_message(first)  # redelivered
        report = live.ingestor.ingest([first])
        assert (report.new, report.duplicate, report.conflicts) == (0, 1, [])
        other = said("1001", "g2@chatroom", "wxid_b", "几点发货？", minutes=1)
        report = live.ingestor.ingest([other])
        assert (report.new, report.duplicate, report.conflicts) == (1, 0, [])
        live.on_message(other)
        assert stored(app) == {("g1@chatroom", "1001"): "有没有优惠？",
                               ("g2@chatroom", "1001"): "几点发货？"}
    finally:
        app.store.engine.dispose()


def test_the_live_persona_cache_keeps_a_members_same_id_in_two_chats(tmp_path: Path) -> None:
    """The live hook's cache of a member's history dedupes by (chat, id) as storage does:
    her "1" in a second chat is a new record, kept without reading her history again."""
    app = App(Settings(db=f"sqlite:///{tmp_path / 'cache.db'}"))
    live = Live(app.store, app.analyzer, app.settings, app.labels, Recipients())
    live.on_message(said("1", "g1@chatroom", "wxid_a", "有没有优惠？"))
    live.on_message(said("2", "g1@chatroom", "wxid_a", "宝宝8个月了", minutes=1))
    cache = live.triggers.personas
    (pk,) = app.store.messages_for()
    cache.build(T0 + timedelta(minutes=5), [pk])  # her history, read once
    loads = cache.loads
    live.on_message(said("1", "g2@chatroom", "wxid_a", "几点发货？", minutes=2))
    live.on_message(said("1", "g2@chatroom", "wxid_a", "几点发货？", minutes=2))  # redelivered
    cache.build(T0 + timedelta(minutes=5), [pk])
    assert cache.loads == loads
    assert sorted((r.chat_id, r.id) for r in cache._cache[pk].records) == [
        ("g1@chatroom", "1"), ("g1@chatroom", "2"), ("g2@chatroom", "1")]
    app.store.engine.dispose()


# ---- revision 0004 on a database 13a4b61 wrote ---------------------------------------------------


def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every message row, and every reference to a message id elsewhere."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "messages": sorted(tuple(r) for r in conn.execute(text(
                    "SELECT id, chat_id, member_pk, ts, type, text, origin FROM message"))),
                "evidence": sorted(tuple(r) for r in conn.execute(text(
                    "SELECT member_pk, code, evidence FROM tag"))),
                "suggestions": sorted(tuple(r) for r in conn.execute(text(
                    "SELECT member_pk, trigger, message_id, chat_id FROM suggestion"))),
            }
    finally:
        engine.dispose()


def test_0004_keys_messages_by_chat_and_keeps_every_row_and_reference(old_url: str) -> None:
    before = _snapshot(old_url)
    assert len(before["messages"]) == 136 and before["suggestions"]
    open_database(old_url).dispose()
    engine = create_engine(old_url)
    try:
        pk = inspect(engine).get_pk_constraint("message")["constrained_columns"]
        assert pk == ["id", "chat_id"]
    finally:
        engine.dispose()
    after = _snapshot(old_url)
    assert after == before  # no row lost, doubled or renamed; the references untouched
    ids = {m[0] for m in after["messages"]}
    cited = {mid for row in after["suggestions"] for mid in row[2:3] if mid}
    assert cited and cited <= ids  # every suggestion still names a stored message

    # What the old key refused now comes in: a stored id, in a chat that never used it.
    (mid, chat, *_rest) = after["messages"][0]
    app = App(Settings(db=old_url))
    try:
        report = app_ingest(app, [said(mid, chat + "-other", "wxid_new", "新的群，新的消息")])
        assert (report.new, report.duplicate, report.conflicts) == (1, 0, [])
        report = app_ingest(app, [said(mid, chat + "-other", "wxid_new", "新的群，新的消息")])
        assert (report.new, report.duplicate) == (0, 1)
    finally:
        app.store.engine.dispose()

    # Going back would have to merge those two messages: refused, nothing changed.
    siyu_engine = make_engine(old_url)
    try:
        with (pytest.raises(RuntimeError, match="1 个消息 id 在多个聊天中都有"),
              writing(siyu_engine) as conn):
            command.downgrade(migrations.config(conn), "0003")
    finally:
        siyu_engine.dispose()
    assert len(_snapshot(old_url)["messages"]) == 137


def test_0004_goes_back_to_the_id_key_when_no_id_is_shared(old_url: str) -> None:
    open_database(old_url).dispose()
    before = _snapshot(old_url)
    siyu_engine = make_engine(old_url)
    try:
        with writing(siyu_engine) as conn:
            command.downgrade(migrations.config(conn), "0003")
    finally:
        siyu_engine.dispose()
    engine = create_engine(old_url)
    try:
        assert inspect(engine).get_pk_constraint("message")["constrained_columns"] == ["id"]
        with engine.connect() as conn:
            assert migrations.current(conn) == "0003"
    finally:
        engine.dispose()
    assert _snapshot(old_url) == before


def test_an_evidence_quote_is_the_members_own_message_when_chats_share_ids(
        tmp_path: Path) -> None:
    """Two chats both number from 1: a member's evidence id "1" must quote her own line, not
    the other chat's "1" from somebody else."""
    app = App(Settings(db=f"sqlite:///{tmp_path / 'quotes.db'}"))
    try:
        app_ingest(app, [said("1", "g1@chatroom", "wxid_b", "群里有人用过这款吗"),
                         said("1", "g2@chatroom", "wxid_a", "有没有优惠？太贵了", minutes=1)])
        (her,) = app.store.find_members("wxid_a")
        (other,) = app.store.find_members("wxid_b")
        assert app.store.messages_by_id(["1"], her.pk)["1"].text == "有没有优惠？太贵了"
        assert app.store.messages_by_id(["1"], other.pk)["1"].text == "群里有人用过这款吗"
    finally:
        app.store.engine.dispose()
