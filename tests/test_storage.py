"""Storage on real SQLite files: schema version, aware times, batches, idempotency, WAL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage.batches import Batch, NewMessage
from storage.db import SchemaVersionError, StorageError, open_database
from storage.repo import Store
from storage.tags import TagRow

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 1, 21, 30, tzinfo=SH)


def url(tmp_path: Path, name: str = "t.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def msg(mid: str, sender: str = "wxid_a", minutes: int = 0, text: str = "你好") -> NewMessage:
    return NewMessage(id=mid, chat_id="g1@chatroom", platform="wechat", sender=sender,
                      ts=T0 + timedelta(minutes=minutes), type="text", text=text,
                      signals={"k": ["你好"]}, origin="t.json:1")


def batch(*messages: NewMessage) -> Batch:
    b = Batch(chats={"g1@chatroom": ("宝妈群", True, "wechat")})
    for m in messages:
        b.people[m.platform, m.sender] = f"name-{m.sender}"
    b.messages.extend(messages)
    return b


def test_new_database_is_wal_with_schema_version(tmp_path: Path) -> None:
    open_database(url(tmp_path))
    con = sqlite3.connect(tmp_path / "t.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"


def test_other_schema_version_is_refused_clearly(tmp_path: Path) -> None:
    open_database(url(tmp_path))
    con = sqlite3.connect(tmp_path / "t.db")
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    with pytest.raises(SchemaVersionError, match="版本为 99"):
        open_database(url(tmp_path))


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "t.db")
    con.execute("CREATE TABLE something (x)")
    con.commit()
    with pytest.raises(StorageError, match="不是 Siyu"):
        open_database(url(tmp_path))


def test_missing_database_for_readers(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="siyu ingest"):
        open_database(url(tmp_path, "nope.db"), create=False)
    assert not (tmp_path / "nope.db").exists()


def test_times_come_back_aware_in_utc(tmp_path: Path) -> None:
    store = Store(open_database(url(tmp_path)))
    store.write_batch(batch(msg("m1")))
    got = store.messages_by_id(["m1"])["m1"].ts
    assert got.tzinfo is not None and got == T0
    assert got.utcoffset() == timedelta(0)
    member = store.members()[0]
    assert member.first_seen == T0 and member.last_active == T0


def test_write_batch_is_idempotent_and_counts(tmp_path: Path) -> None:
    store = Store(open_database(url(tmp_path)))
    r1 = store.write_batch(batch(msg("m1"), msg("m2", minutes=5), msg("m2", minutes=5)))
    assert (r1.new, r1.duplicate, r1.new_members) == (2, 1, 1)
    r2 = store.write_batch(batch(msg("m1"), msg("m2", minutes=5)))
    assert (r2.new, r2.duplicate, r2.new_members) == (0, 2, 0)
    assert store.counts()["messages"] == 2


def test_spans_extend_both_ways(tmp_path: Path) -> None:
    store = Store(open_database(url(tmp_path)))
    store.write_batch(batch(msg("m1", minutes=10)))
    store.write_batch(batch(msg("m0", minutes=-10), msg("m2", minutes=30)))
    m = store.members()[0]
    assert m.first_seen == T0 - timedelta(minutes=10)
    assert m.last_active == T0 + timedelta(minutes=30)


def test_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store(open_database(url(tmp_path)))
    bad = msg("m2", sender="wxid_b")
    bad.ts = datetime(2026, 11, 1, 12, 0)  # naive: refused by the column type mid-batch
    with pytest.raises(Exception, match="naive"):
        store.write_batch(batch(msg("m1", sender="wxid_b"), bad))
    assert store.counts() == {"members": 0, "messages": 0, "chats": 0, "tags": 0}


def test_opted_out_members_messages_are_not_stored(tmp_path: Path) -> None:
    engine = open_database(url(tmp_path))
    store = Store(engine)
    store.write_batch(batch(msg("m1")))
    con = sqlite3.connect(tmp_path / "t.db")
    con.execute("UPDATE member SET opted_out=1")
    con.commit()
    res = store.write_batch(batch(msg("m2", minutes=1)))
    assert (res.new, res.opted_out) == (0, 1)
    assert set(store.messages_by_id(["m1", "m2"])) == {"m1"}


def test_same_id_on_two_platforms_stays_two_members(tmp_path: Path) -> None:
    store = Store(open_database(url(tmp_path)))
    a = msg("m1")
    b = msg("m2")
    b.platform = "wecom"
    store.write_batch(batch(a, b))
    ids = sorted(m.member_id for m in store.members())
    assert ids == ["wecom:wxid_a", "wxid_a"]


def test_find_members_by_id_name_and_part(tmp_path: Path) -> None:
    store = Store(open_database(url(tmp_path)))
    store.write_batch(batch(msg("m1", sender="wxid_a"), msg("m2", sender="wxid_b")))
    assert [m.member_id for m in store.find_members("wxid_b")] == ["wxid_b"]
    assert [m.member_id for m in store.find_members("name-wxid_a")] == ["wxid_a"]
    assert len(store.find_members("name-")) == 2
    assert store.find_members("没有这个人") == []
    assert store.find_members("%") == []  # LIKE wildcards are escaped


def test_derived_tags_replace_and_clear_stale(tmp_path: Path) -> None:
    store = Store(open_database(url(tmp_path)))
    store.write_batch(batch(msg("m1")))
    (pk,) = store.stale_members()
    now = datetime(2026, 11, 2, tzinfo=UTC)
    store.replace_derived_tags({pk: [TagRow("travel", "interest", "旅行", 0.5, ["m1"], None)]},
                               now)
    assert store.stale_members() == []
    store.replace_derived_tags({pk: [TagRow("food", "interest", "美食", 0.7, ["m1"], None)]},
                               now)
    tags = store.tags_for([pk], "derived")[pk]
    assert [t.code for t in tags] == ["food"] and tags[0].evidence == ["m1"]


def test_fast_batch_path_stores_exactly_what_core_stores(tmp_path: Path) -> None:
    """write_batch's SQLite fast path (compiled executemany, pre-encoded times and JSON) must
    store byte for byte what a plain SQLAlchemy Core insert of the same rows stores."""
    from sqlalchemy import insert

    from storage.batches import signals_json
    from storage.models import MESSAGE

    odd = datetime(2026, 3, 1, 0, 0, 0, 7, tzinfo=ZoneInfo("America/New_York"))
    msgs = [msg("m1"), msg("m2", minutes=90, text=None),
            NewMessage(id="m3", chat_id="g1@chatroom", platform="wechat", sender="wxid_b",
                       ts=odd, type="text", text="不贵", signals={"m": {"price": 1.0}},
                       origin="t.json:3", signals_json=signals_json({"m": {"price": 1.0}})),
            # UTC, as every file source gives it: the conversion-free branch of _utc_text
            NewMessage(id="m4", chat_id="g1@chatroom", platform="wechat", sender="wxid_b",
                       ts=datetime(2026, 11, 20, 4, 5, 6, 789, tzinfo=UTC), type="text",
                       text="好的", signals={}, origin="t.json:4", signals_json="{}")]
    fast = Store(open_database(url(tmp_path, "fast.db")))
    fast.write_batch(batch(*msgs))
    core = open_database(url(tmp_path, "core.db"))
    Store(core).write_batch(batch())  # chat, no members yet
    pks = {}
    for m in msgs:
        store = Store(core)
        store.write_batch(Batch(people={(m.platform, m.sender): f"name-{m.sender}"}))
        pks[m.sender] = store.find_members(m.sender)[0].pk
    with core.begin() as conn:
        conn.execute(insert(MESSAGE), [
            {"id": m.id, "chat_id": m.chat_id, "member_pk": pks[m.sender], "ts": m.ts,
             "type": m.type, "text": m.text, "signals": m.signals, "origin": m.origin}
            for m in msgs])

    def stored(name: str) -> list[tuple[object, ...]]:
        con = sqlite3.connect(tmp_path / name)
        try:
            return con.execute("SELECT id, chat_id, ts, type, text, signals, origin FROM message "
                               "ORDER BY id").fetchall()
        finally:
            con.close()

    assert stored("fast.db") == stored("core.db")
    assert stored("fast.db")[2][2] == "2026-03-01 05:00:00.000007"
    spans = {m.member_id: (m.first_seen, m.last_active) for m in fast.members()}
    assert stored("fast.db")[3][2] == "2026-11-20 04:05:06.000789"
    assert spans == {"wxid_a": (T0, T0 + timedelta(minutes=90)),
                     "wxid_b": (odd, datetime(2026, 11, 20, 4, 5, 6, 789, tzinfo=UTC))}


def _history_by_core(store: Store, pks: list[int], until: datetime | None
                     ) -> dict[int, list[tuple[object, ...]]]:
    """The reference: Core with the column types, in member-index order (member, time, rowid)."""
    from sqlalchemy import Text, literal_column, select, type_coerce

    from storage.models import MESSAGE

    q = (select(MESSAGE.c.member_pk, MESSAGE.c.id, MESSAGE.c.ts, MESSAGE.c.chat_id,
                MESSAGE.c.type, type_coerce(MESSAGE.c.signals, Text))
         .where(MESSAGE.c.member_pk.in_(pks))
         .order_by(MESSAGE.c.member_pk, MESSAGE.c.ts, literal_column("rowid")))
    if until is not None:
        q = q.where(MESSAGE.c.ts <= until)
    out: dict[int, list[tuple[object, ...]]] = {}
    with store.engine.connect() as conn:
        for pk, *rest in conn.execute(q):
            out.setdefault(pk, []).append(tuple(rest))
    return out


@pytest.mark.parametrize("share", [0.0, float("inf")])  # always scan / always the index
def test_history_read_gives_the_member_index_order_on_both_paths(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float) -> None:
    """The tag rebuild's SQLite read (storage/messages.py: _sqlite_history) either scans the table
    or walks the member index; both must give Core's rows, times and tie order exactly
    (kept_keywords breaks ties of equal times by the order rows are read in)."""
    import storage.messages as messages

    monkeypatch.setattr(messages, "_SCAN_SHARE", share)
    # the scan is only considered for more than CHUNK members: make two "many"
    monkeypatch.setattr(messages, "CHUNK", 1)
    scans: list[bool] = []
    real = messages._history_time

    def spy(row: object) -> object:
        scans.append(True)
        return real(row)  # type: ignore[arg-type]

    monkeypatch.setattr(messages, "_history_time", spy)
    store = Store(open_database(url(tmp_path)))
    # Inserted out of time order, with equal times for one member across two batches and
    # members interleaved, so rowid order, time order and member order all differ.
    store.write_batch(batch(msg("c", minutes=5), msg("x", sender="wxid_b", minutes=1),
                            msg("a", minutes=5), msg("z", minutes=-3)))
    store.write_batch(batch(msg("b", minutes=5), msg("y", sender="wxid_b", minutes=1),
                            msg("late", minutes=600), msg("w", sender="wxid_c", minutes=2)))
    utc = NewMessage(id="u", chat_id="g1@chatroom", platform="wechat", sender="wxid_a",
                     ts=T0.astimezone(UTC) + timedelta(microseconds=1), type="text",
                     text="嗯", signals={}, origin="t.json:9")
    store.write_batch(batch(utc))
    pks = [m.pk for m in store.members()]
    for until in (None, T0 + timedelta(minutes=5)):
        got = store.message_history(pks, until=until)
        want = _history_by_core(store, pks, until)
        assert {pk: [tuple(r) for r in rows] for pk, rows in got.items()} == want
        for rows in got.values():
            assert all(r.ts.tzinfo is UTC for r in rows)
    # a chunk of the rebuild: some members, the pk range between them holding another's rows
    ends = [pks[0], pks[-1]]
    got = store.message_history(ends)
    assert {pk: [tuple(r) for r in rows] for pk, rows in got.items()} == {
        pk: rows for pk, rows in _history_by_core(store, pks, None).items() if pk in ends}
    a = next(m.pk for m in store.members() if m.member_id == "wxid_a")
    assert [r.id for r in store.message_history([a])[a]] == ["z", "u", "c", "a", "b", "late"]
    assert store.message_history([]) == {} and store.history_sizes([a]) == {a: 6}
    assert bool(scans) == (share == 0.0)  # the path this case meant to test really ran


def test_history_time_parser_matches_the_column_type(tmp_path: Path) -> None:
    """The fast parse of stored times is used only because it equals the column's own."""
    from storage.messages import _parse_utc_text, _sqlite_time_parser

    engine = open_database(url(tmp_path))
    with engine.connect() as conn:
        assert _sqlite_time_parser(conn) is _parse_utc_text
    at = _parse_utc_text("2026-11-20 04:05:06.000789")
    assert at == datetime(2026, 11, 20, 4, 5, 6, 789, tzinfo=UTC) and at.tzinfo is UTC


def test_duplicate_check_of_a_bulk_batch_finds_exactly_the_stored_ids(tmp_path: Path) -> None:
    """Past 500 ids the SQLite duplicate check sends them as one JSON array (json_each);
    ids that are not plain ASCII take the IN-list path. Both must find exactly what is there."""
    store = Store(open_database(url(tmp_path)))
    plain = [f"m-{i}" for i in range(1200)]
    odd = ["年-1", "tab\tid", 'q"uote', "back\\slash"]
    store.write_batch(batch(*(msg(i, minutes=n) for n, i in enumerate(plain[::2] + odd))))
    with store.engine.connect() as conn:
        assert store._existing_message_ids(conn, plain) == set(plain[::2])
        assert store._existing_message_ids(conn, plain + odd) == set(plain[::2] + odd)
        # quotes and backslashes are plain ASCII: the JSON path, escaped and read back
        assert store._existing_message_ids(conn, plain + odd[2:]) == set(plain[::2] + odd[2:])
        assert store._existing_message_ids(conn, plain[:10]) == set(plain[:10:2])
    res = store.write_batch(batch(*(msg(i) for i in plain + odd)))
    # Stored at other times, so under their ids these are different messages: conflicts,
    # reported, not duplicates (issue 16); only m-0 was stored at minute 0 as well.
    assert (res.new, res.duplicate, len(res.conflicts)) == (600, 1, 600 + 4 - 1)
