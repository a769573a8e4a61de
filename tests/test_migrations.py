"""Schema migrations: revisions match the models, and a database the last release wrote upgrades.

tests/data/migrations/ holds a small database written by release 13a4b61 (the last before
Alembic) on SQLite, the same written on PostgreSQL as a plain-SQL pg_dump, and what 13a4b61
printed for it (`personas --json`, `segment --json` at a fixed --as-of). Its README says how
they were made. Every test that upgrades one checks the upgraded database against the models
(Alembic's `compare_metadata` finds nothing) and the stored revision against `HEAD`; the CLI
ones check that personas and segments come out byte for byte as 13a4b61 printed them.

A new revision needs no new test here: the fixtures then upgrade through it too.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cli_helpers import siyu
from pg import fresh_database, require_postgres
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage import migrations
from storage.db import (
    SchemaVersionError,
    make_engine,
    open_database,
    register_tables,
    writing,
)

DATA = Path(__file__).resolve().parent / "data" / "migrations"
AS_OF = "2026-11-20T18:08:00+08:00"  # the --as-of the expected files were printed with
# What releases before Alembic added lazily at first use: a database they wrote may lack it.
LAZY_TABLES = ("tag_claim", "member_keywords", "member_activity", "member_tags")
LAZY_INDEXES = ("ux_suggestion_one_open", "ix_suggestion_queue")


# ---- databases written by 13a4b61 ----------------------------------------------------------------
def load_pg_dump(url: str) -> None:
    """Run the committed pg_dump into the empty database at `url`, without needing psql.

    Its backslash lines (\\restrict, \\unrestrict: commands for psql, which newer pg_dump
    versions write) are left out; the rest, plain SQL with INSERTs, goes to the server in
    one go.
    """
    import psycopg

    sql = "\n".join(line for line in (DATA / "siyu-13a4b61.pg.sql").read_text("utf-8")
                    .splitlines() if not line.startswith("\\"))
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[call-overload]


@contextmanager
def nothing_yet(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL where nothing exists yet."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    with fresh_database(require_postgres()) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def new_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with nothing_yet(request.param, tmp_path) as url:
        yield url


def plain_engine(url: str) -> Engine:
    """An engine without Siyu's checks: looking at a database must not upgrade it."""
    return create_engine(url)


def differences(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    register_tables()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, SQLModel.metadata)


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return migrations.current(conn)


def schema(engine: Engine) -> dict[str, Any]:
    """Tables, columns, keys and indexes as the database reports them (Alembic's own table
    left out), for "the same schema" between two databases on one backend."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for name in sorted(set(insp.get_table_names()) - {migrations.VERSION_TABLE}):
        out[name] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                        for c in insp.get_columns(name)],
            "pk": insp.get_pk_constraint(name)["constrained_columns"],
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                           tuple(f["referred_columns"]), str(f.get("options")))
                          for f in insp.get_foreign_keys(name)),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(name)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), i["unique"],
                               sorted((k, str(v)) for k, v in
                                      i.get("dialect_options", {}).items()))
                              for i in insp.get_indexes(name)),
        }
    return out


# ---- the revisions -------------------------------------------------------------------------------
def test_head_is_the_newest_revision_of_one_line() -> None:
    scripts = migrations.scripts()
    assert scripts.get_heads() == [migrations.HEAD]  # one line of history, HEAD at its end
    assert scripts.get_revision(migrations.BASELINE).down_revision is None


def test_a_new_database_matches_the_models(new_url: str) -> None:
    open_database(new_url).dispose()
    engine = plain_engine(new_url)
    try:
        assert differences(engine) == []
        assert revision(engine) == migrations.HEAD
    finally:
        engine.dispose()


def test_the_baseline_makes_the_schema_13a4b61_made(old_url: str, tmp_path: Path) -> None:
    """The baseline revision alone, in a new database, against the 13a4b61 fixture."""
    old = plain_engine(old_url)
    with nothing_yet(old.dialect.name, tmp_path) as url:
        engine = make_engine(url)
        try:
            with writing(engine) as conn:
                command.upgrade(migrations.config(conn), migrations.BASELINE)
            assert schema(engine) == schema(old)
            with engine.connect() as conn:
                assert conn.execute(text("SELECT * FROM meta")).all() == [("schema_version", "1")]
        finally:
            engine.dispose()
            old.dispose()


def test_downgrade_to_nothing_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    open_database(url).dispose()
    engine = make_engine(url)
    try:
        with writing(engine) as conn:
            command.downgrade(migrations.config(conn), "base")
        assert set(inspect(engine).get_table_names()) == {migrations.VERSION_TABLE}
        with writing(engine) as conn:
            command.upgrade(migrations.config(conn), "head")
        assert differences(engine) == []
    finally:
        engine.dispose()


# ---- upgrading a 13a4b61 database ----------------------------------------------------------------
def test_a_13a4b61_database_upgrades_and_gives_the_same_personas(old_url: str,
                                                                 tmp_path: Path) -> None:
    engine = plain_engine(old_url)
    try:
        assert revision(engine) is None
        db = ("--db", old_url)
        personas = siyu(*db, "personas", "--json", "--as-of", AS_OF, cwd=tmp_path).stdout
        assert revision(engine) == migrations.HEAD
        assert differences(engine) == []
        segment = siyu(*db, "segment", "--json", "--as-of", AS_OF, cwd=tmp_path).stdout
    finally:
        engine.dispose()
    assert personas == (DATA / "personas.json").read_text("utf-8")
    assert segment == (DATA / "segment.json").read_text("utf-8")


def test_what_older_releases_added_at_first_use_is_brought_in(old_url: str,
                                                              tmp_path: Path) -> None:
    """A version-1 database that never ran those features: the lazily added tables and
    indexes missing, the index the models stopped making still there, and two open drafts
    of one member and scenario (before the one-open rule). It upgrades to the models, keeps
    the newer draft, and personas and segments come out as 13a4b61 printed them."""
    engine = plain_engine(old_url)
    try:
        with engine.begin() as conn:
            for table in LAZY_TABLES:
                conn.execute(text(f"DROP TABLE {table}"))
            for index in LAZY_INDEXES:
                conn.execute(text(f"DROP INDEX {index}"))
            conn.execute(text("CREATE INDEX ix_message_chat_id ON message (chat_id)"))
            # A copy of draft 1, triggered a day earlier by another message.
            cols = [c["name"] for c in inspect(conn).get_columns("suggestion")
                    if c["name"] != "id"]
            earlier = ("trigger_ts - INTERVAL '1 day'" if conn.dialect.name == "postgresql"
                       else "datetime(trigger_ts, '-1 day')")
            quoted = [f'"{c}"' for c in cols]
            copied = ["'older'" if c == "trigger" else earlier if c == "trigger_ts" else q
                      for c, q in zip(cols, quoted, strict=True)]
            conn.execute(text(f"INSERT INTO suggestion ({', '.join(quoted)}) "
                              f"SELECT {', '.join(copied)} FROM suggestion "
                              "WHERE status = 'pending' AND id = 1"))
            assert conn.scalar(text("SELECT count(*) FROM suggestion")) == 4
        open_database(old_url).dispose()
        assert differences(engine) == []
        assert revision(engine) == migrations.HEAD
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM suggestion")) == 3
            assert conn.scalar(text("SELECT id FROM suggestion WHERE \"trigger\" = 'older'")
                               ) is None
    finally:
        engine.dispose()
    db = ("--db", old_url)
    personas = siyu(*db, "personas", "--json", "--as-of", AS_OF, cwd=tmp_path).stdout
    segment = siyu(*db, "segment", "--json", "--as-of", AS_OF, cwd=tmp_path).stdout
    assert personas == (DATA / "personas.json").read_text("utf-8")
    assert segment == (DATA / "segment.json").read_text("utf-8")


def test_a_failed_upgrade_leaves_the_old_database(old_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Adopting, stamping and upgrading are one transaction: a failure half-way (here in the
    last step, after the lazily added table was created) leaves the database as it was."""
    engine = plain_engine(old_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE tag_claim"))
        before = schema(engine)

        def fail(_conn: Any) -> None:
            raise RuntimeError("killed mid-upgrade")

        monkeypatch.setattr(migrations, "upgrade", fail)
        with pytest.raises(RuntimeError, match="mid-upgrade"):
            open_database(old_url)
        assert schema(engine) == before and revision(engine) is None
        monkeypatch.undo()
        open_database(old_url).dispose()
        assert differences(engine) == [] and revision(engine) == migrations.HEAD
    finally:
        engine.dispose()


def test_processes_upgrading_an_old_database_at_once_all_succeed() -> None:
    """Several bots started together after an upgrade of siyu: one upgrades, the others wait
    for the lock and find it done (PostgreSQL, where they really run at once)."""
    with fresh_database(require_postgres()) as url:
        load_pg_dump(url)
        errors: list[BaseException] = []
        start = threading.Barrier(5)

        def opener() -> None:
            start.wait()
            try:
                open_database(url).dispose()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=opener) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        engine = plain_engine(url)
        try:
            assert revision(engine) == migrations.HEAD and differences(engine) == []
            with engine.connect() as conn:
                assert conn.scalar(text(f"SELECT count(*) FROM {migrations.VERSION_TABLE}")) == 1
        finally:
            engine.dispose()


# ---- refusals --------------------------------------------------------------------------------
def test_a_database_from_a_newer_release_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "siyu.db"
    open_database(f"sqlite:///{db}").dispose()
    con = sqlite3.connect(db)
    con.execute(f"UPDATE {migrations.VERSION_TABLE} SET version_num = 'f00dfeed'")
    con.commit()
    con.close()
    with pytest.raises(SchemaVersionError, match=r"f00dfeed.*更新版本.*请升级 siyu"):
        open_database(f"sqlite:///{db}")
    proc = siyu("personas", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and str(db.name) in proc.stderr, proc.stderr
    assert "更新版本" in proc.stderr
    current = siyu("db", "current", cwd=tmp_path)
    assert "更新版本" in current.stdout and "f00dfeed" in current.stdout


def test_a_pre_alembic_database_of_another_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copy(DATA / "siyu-13a4b61.db", db)
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(SchemaVersionError, match="版本为 0"):
        open_database(f"sqlite:///{db}")
    con = sqlite3.connect(db)
    assert con.execute(f"SELECT count(*) FROM sqlite_master WHERE name = "
                       f"'{migrations.VERSION_TABLE}'").fetchone() == (0,)


# ---- siyu db ---------------------------------------------------------------------------------
def test_siyu_db_current_looks_and_upgrade_upgrades(tmp_path: Path) -> None:
    shutil.copy(DATA / "siyu-13a4b61.db", tmp_path / "siyu.db")
    before = (tmp_path / "siyu.db").read_bytes()
    out = siyu("db", "current", cwd=tmp_path).stdout
    assert "旧版数据库" in out and "siyu db upgrade" in out
    assert (tmp_path / "siyu.db").read_bytes() == before  # looking changes nothing
    out = siyu("db", "upgrade", cwd=tmp_path).stdout
    assert out == f"siyu.db: 已升级，旧版（未记录迁移版本） → 结构版本 {migrations.HEAD}\n"
    doc = siyu("db", "upgrade", "--json", cwd=tmp_path).stdout
    assert '"before": "current"' in doc and f'"to": "{migrations.HEAD}"' in doc
    assert siyu("db", "current", cwd=tmp_path).stdout == \
        f"siyu.db: 结构版本 {migrations.HEAD}，已是最新\n"


def test_siyu_db_upgrade_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    proc = siyu("db", "upgrade", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "数据库不存在" in proc.stderr
    assert not (tmp_path / "siyu.db").exists()


def test_help_and_an_up_to_date_open_never_import_alembic(tmp_path: Path) -> None:
    """Alembic costs a quarter of a second to import: only a database that needs creating
    or upgrading pays it."""
    open_database(f"sqlite:///{tmp_path / 'siyu.db'}").dispose()
    code = ("import sys; from bot.cli import build_parser; build_parser(); "
            "from storage.db import open_database; "
            f"open_database('sqlite:///{tmp_path / 'siyu.db'}').dispose(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert proc.stdout.strip() == "[]", proc.stdout


def test_the_fixture_is_what_13a4b61_wrote() -> None:
    """Guards the fixture itself: no Alembic stamp, meta version 1, every table filled by
    the commands its README lists."""
    con = sqlite3.connect(DATA / "siyu-13a4b61.db")
    names = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert migrations.VERSION_TABLE not in names
    assert con.execute("SELECT value FROM meta").fetchall() == [("1",)]
    for table in ("member", "message", "tag", "orders", "segment_run", "member_segment",
                  "suggestion", *LAZY_TABLES[1:]):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    con.close()


# ---- 0002: the suppression table ---------------------------------------------------------------
def test_0002_adds_the_suppression_table_to_a_13a4b61_database_and_goes_back(
        old_url: str) -> None:
    """The 13a4b61 fixture upgrades through 0002 (an empty suppression table, no key yet);
    going back to the baseline drops the table and the key an erasure made."""
    open_database(old_url).dispose()
    engine = plain_engine(old_url)
    try:
        assert "suppression" in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM suppression")) == 0
            assert conn.execute(text("SELECT key FROM meta")).all() == [("schema_version",)]
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO meta (key, value) VALUES ('suppression_key', 'ab')"))
        siyu_engine = make_engine(old_url)
        try:
            with writing(siyu_engine) as conn:
                command.downgrade(migrations.config(conn), migrations.BASELINE)
        finally:
            siyu_engine.dispose()
        assert "suppression" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT key FROM meta")).all() == [("schema_version",)]
        assert revision(engine) == migrations.BASELINE
    finally:
        engine.dispose()


# ---- 0006: the kept tables' microsecond times are 64-bit ---------------------------------------
KEPT_US = {"member_keywords": ("through_us",),
           "member_activity": ("computed_us", "first_us", "last_us", "joined_us"),
           "member_tags": ("computed_us",)}


def _us_types(engine: Engine) -> set[str]:
    insp = inspect(engine)
    return {str(c["type"]) for table, cols in KEPT_US.items()
            for c in insp.get_columns(table) if c["name"] in cols}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0006_widens_the_microsecond_columns_and_keeps_every_row(backend: str,
                                                                 tmp_path: Path) -> None:
    """A database at 0005 with kept rows (times small enough for 0005's 32-bit columns on
    PostgreSQL) upgrades with every row as it was; afterwards a real microsecond time fits,
    and going back to 0005 leaves 32-bit columns again."""
    with nothing_yet(backend, tmp_path) as url:
        engine = make_engine(url)
        try:
            with writing(engine) as conn:
                command.upgrade(migrations.config(conn), "0005")
            assert _us_types(engine) == {"INTEGER"}
            with engine.begin() as conn:
                for pk in (1, 2):
                    conn.execute(text("INSERT INTO member (id, member_id, name, opted_out, "
                                      "tags_stale) VALUES (:pk, :mid, '', false, false)"),
                                 {"pk": pk, "mid": f"wxid_{pk}"})
                conn.execute(text("INSERT INTO member_keywords VALUES (1, 2000000000, 3, "
                                  "'a\x1fb'), (2, 7, 1, '')"))
                conn.execute(text("INSERT INTO member_activity VALUES (1, 2000000001, 3, "
                                  "5, 6, NULL, '0000000000000006'), "
                                  "(2, 9, 0, NULL, NULL, 4, '')"))
                conn.execute(text("INSERT INTO member_tags VALUES (1, 2000000001, "
                                  "'k\x1fc\x1fl', :blob, '')"), {"blob": b"\x01\x02"})
            before = {t: dump_table(engine, t) for t in KEPT_US}
            with writing(engine) as conn:
                command.upgrade(migrations.config(conn), "head")
            assert {t: dump_table(engine, t) for t in KEPT_US} == before
            assert _us_types(engine) == {"BIGINT"} and differences(engine) == []
            now_us = 1_795_000_000_000_000  # 2026-11: past 32 bits by far
            with engine.begin() as conn:
                conn.execute(text("UPDATE member_activity SET computed_us = :us, "
                                  "last_us = :us WHERE member_pk = 1"), {"us": now_us})
                assert conn.scalar(text("SELECT last_us FROM member_activity "
                                        "WHERE member_pk = 1")) == now_us
            with writing(engine) as conn:
                command.downgrade(migrations.config(conn), "0005")
            assert _us_types(engine) == {"INTEGER"}
        finally:
            engine.dispose()


def dump_table(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
