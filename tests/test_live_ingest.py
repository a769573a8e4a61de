"""One live message per `write_batch`: no per-call lookups a known chat does not need, and
statements compiled once, with the stored rows the same as ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqltrace import trace

from storage.batches import Batch, NewMessage
from storage.db import open_database
from storage.models import MEMBER, MESSAGE
from storage.repo import Store

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _batch(i: int, sender: str = "wxid_a") -> Batch:
    msg = NewMessage(f"m{i}", "g@chatroom", "wechat", sender, T0 + timedelta(minutes=i),
                     "text", f"第{i}条", {"intent": ["question"]} if i % 2 else {}, "live")
    return Batch(chats={"g@chatroom": ("群", True, "wechat")},
                 people={("wechat", sender): sender}, messages=[msg])


def test_a_live_message_for_a_known_chat_skips_the_chat_lookup(tmp_path: Path) -> None:
    store = Store(open_database(f"sqlite:///{tmp_path / 'a.db'}"))
    store.write_batch(_batch(0))
    statements = trace(store.engine, queries_only=True)
    result = store.write_batch(_batch(1))
    assert result.new == 1 and result.duplicate == 0
    assert not any("FROM chat" in q for q in statements), statements
    # anyone forgotten? (one indexed read, issue 16), identity, opted out, duplicate check,
    # insert, span (which also marks the tags stale)
    assert len(statements) == 6, statements
    assert "FROM suppression" in statements[0], statements
    with store.engine.connect() as conn:
        assert conn.execute(select(MEMBER.c.tags_stale)).scalars().all() == [True]
    assert store.write_batch(_batch(1)).duplicate == 1


def test_prepared_writes_store_what_a_fresh_store_stores(tmp_path: Path) -> None:
    """The compiled statements are shared by every Store: two databases, same rows."""
    rows = []
    for name in ("a.db", "b.db"):
        store = Store(open_database(f"sqlite:///{tmp_path / name}"))
        for i in range(6):
            store.write_batch(_batch(i, sender=f"wxid_{i % 2}"))
        with store.engine.connect() as conn:
            rows.append((conn.execute(select(MESSAGE).order_by(MESSAGE.c.id)).all(),
                         conn.execute(select(MEMBER).order_by(MEMBER.c.id)).all()))
    assert rows[0] == rows[1]
    messages, members = rows[0]
    assert len(messages) == 6
    assert [(m.first_seen, m.last_active) for m in members] == [
        (T0, T0 + timedelta(minutes=4)), (T0 + timedelta(minutes=1), T0 + timedelta(minutes=5))]
