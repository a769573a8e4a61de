"""Engines and schema: SQLite with WAL by default, PostgreSQL through the same URL setting.

Opening a database brings its schema to the newest Alembic revision (storage/migrations/):
a new database is created by the revisions, one written by an older release is upgraded in
place, and one written by a newer release (a revision this code does not know) fails with a
clear sentence instead of a confusing SQL error deep in a command.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import pkgutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, func, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlmodel import create_engine, select

from storage import driver, migrations, sqlite_errors
from storage.models import SCHEMA_VERSION, Meta

META: Table = Meta.__table__  # type: ignore[assignment]
# Transaction-scoped PostgreSQL advisory lock (per database) serialising schema creation,
# upgrades and checks: two bot processes started at once on a new database would otherwise
# both see no tables and both CREATE them. storage/repo.py uses the next key for member
# creation.
PG_SCHEMA_LOCK = 0x5159_0001
# What the meta row says in every database written before Alembic took over the schema.
PRE_ALEMBIC_VERSION = "1"
# What a NUL character becomes on PostgreSQL, whose text type cannot store it.
NUL_STAND_IN = "\ufffd"
# The execution option `writing` sets on its connection; the SQLite "begin" hook reads it.
WRITER_OPTION = "siyu_writer"
# SQLite's own default: a committing connection checkpoints once the WAL holds this many pages.
AUTO_CHECKPOINT_PAGES = 1000
# With checkpoints in the background (`WalCheckpointer`), a connection still checkpoints
# itself past this many pages (≈ 64 MB at 4 KB pages): the backstop if the thread stalls.
BACKSTOP_CHECKPOINT_PAGES = 16384

log = logging.getLogger("siyu.storage")


def register_tables() -> None:
    """Import every storage module so all their tables join SQLModel's metadata.

    Features keep their tables in their own storage modules (storage/business.py, …);
    discovering them here means adding a feature never edits a shared list. The schema
    itself comes from the revisions; the complete metadata is what erasing a member walks
    (storage/repo.py: PrivacyStore) and what autogenerate and tests/test_migrations.py
    compare the revisions with.
    """
    import storage

    for mod in pkgutil.iter_modules(storage.__path__):
        importlib.import_module(f"storage.{mod.name}")


class StorageError(Exception):
    """A database that cannot be used as it is; str() is one line for the operator."""


class SchemaVersionError(StorageError):
    pass


def _json_dumps(obj: Any) -> str:
    # Chinese stays readable in the database and takes a third of the bytes of \u escapes.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def sqlite_path(url: str) -> Path | None:
    """The file behind a sqlite URL, or None for other backends and in-memory databases."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"--db: 无法识别的数据库地址 {url!r}") from exc
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def display_url(url: str) -> str:
    """The URL as it may be shown to the operator: a server password never reaches a log."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    return parsed.render_as_string(hide_password=True) if parsed.password else url


def _one_line(exc: BaseException | None) -> str:
    # psycopg's messages span lines ("…Connection refused\n\tIs the server running…").
    return " ".join(str(exc).split())


def make_engine(url: str, *, background_checkpoints: bool = False,
                read_only: bool = False) -> Engine:
    """An engine for `url`. `background_checkpoints` (SQLite only) leaves WAL checkpoints to
    a `WalCheckpointer` instead of the committing connection (see there). `read_only`
    (SQLite, a `sqlite_errors.read_only_url`): the connection setup writes nothing either."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"--db: 无法识别的数据库地址 {url!r}") from exc
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps}
    if parsed.get_backend_name() == "sqlite":
        # Writers wait for each other instead of failing at once with "database is locked".
        kwargs["connect_args"] = {"timeout": 30}
    target: Any = url
    if parsed.drivername in ("postgresql", "postgres"):
        # A plain postgresql:// (or Heroku-style postgres://) URL means the driver the
        # [postgres] extra installs, psycopg 3; SQLAlchemy's own default would be psycopg2.
        target = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        # A long-running bot outlives server restarts and idle timeouts: test a pooled
        # connection before use instead of failing the next batch on a dead socket.
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(target, **kwargs)
    except ArgumentError as exc:  # NoSuchModuleError: an unknown dialect such as foo://
        raise StorageError(f"--db: 不支持的数据库类型 {parsed.drivername!r}（{display_url(url)}）"
                           "；请用 sqlite:///文件 或 postgresql://…") from exc
    except ImportError as exc:
        raise StorageError(
            f"{display_url(url)}: 缺少数据库驱动 {exc.name or exc}；"
            "PostgreSQL 请安装 pip install 'siyu-companion[postgres]'") from exc
    if parsed.get_backend_name() == "sqlite":
        pages = BACKSTOP_CHECKPOINT_PAGES if background_checkpoints else AUTO_CHECKPOINT_PAGES
        event.listen(engine, "connect", functools.partial(
            _sqlite_pragmas, checkpoint_pages=pages, read_only=read_only))
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "before_cursor_execute", _no_nul_characters, retval=True)
    return engine


def pg_text(value: str) -> str:
    """A string as it is stored on PostgreSQL through these engines (NUL → the stand-in)."""
    return value.replace("\x00", NUL_STAND_IN)


def _no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        return pg_text(value)
    if isinstance(value, dict):
        return {k: _no_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_no_nul(v) for v in value)
    return value


def _no_nul_characters(_conn: Any, _cursor: Any, statement: str, parameters: Any,
                       _context: Any, _executemany: bool) -> tuple[str, Any]:
    """PostgreSQL text cannot hold NUL, and one in a chat line or nickname (a JSON export
    may carry "\\u0000") failed the whole batch there while SQLite stored it. Every string
    parameter, of reads too, gets the stand-in instead, so ids stay consistent between
    imports and lookups. (JSON columns need nothing: json.dumps escapes NUL as text.)"""
    return statement, _no_nul(parameters)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, *, checkpoint_pages: int,
                    read_only: bool = False) -> None:
    # Python's sqlite3 (legacy transaction control) sends BEGIN only before the first
    # INSERT/UPDATE/DELETE: the SELECTs that open a write transaction ran outside it (a
    # duplicate check another process could invalidate before the insert), and DDL ran
    # autocommitted (a kill mid-schema left half a schema). With the driver out of the way,
    # _sqlite_begin emits every BEGIN itself (SQLAlchemy's pysqlite recipe); COMMIT and
    # ROLLBACK still go through the driver.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL lets readers (a report, the bot) run while an import writes. Setting it writes the
    # file header when the database is not yet in WAL mode: a read-only open leaves it be.
    if not read_only:
        cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # A 64 MB page cache (default 2 MB): a back-fill touches the message, member and tag
    # indexes all over; with the small cache each batch re-reads index pages it just wrote
    # (measured on a 200k import: write CPU 8.2 s → 6.5 s). Pages are allocated only as used.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE for writers (see `writing`), a plain deferred BEGIN for everything else.

    IMMEDIATE takes the write lock before the transaction's first read, so what a writer
    checks (is this message, order, schema already there?) stays true until it commits, and
    a second writer waits here, within the busy timeout, instead of failing later. Readers
    stay deferred on purpose: in WAL they never block a writer, and code that opens a second
    connection while one is open in the same thread (`inspect(engine)` inside a read) would
    otherwise wait out the whole busy timeout against itself.
    """
    immediate = conn.get_execution_options().get(WRITER_OPTION, False)
    # Through the driver (`storage/driver.py`): sent as a Core statement, BEGIN cost ≈ 50 µs
    # of a live message's 10 transactions each.
    driver.begin(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: commits at the end of the block, rolls back on an exception.

    Use it instead of `engine.begin()` for every transaction that writes. On SQLite it starts
    with BEGIN IMMEDIATE (see `_sqlite_begin`): without it, a transaction that reads before it
    writes can act on rows another process changes before its first write (and then fail on
    a UNIQUE key, or with SQLITE_BUSY when its read snapshot went stale). On PostgreSQL it is
    exactly `engine.begin()`; concurrent writers there are handled by the statements
    themselves (ON CONFLICT, row and advisory locks).

    Never open another writer, on any engine of the same SQLite file, inside the block: it
    would wait for this one, which waits for the block to end.
    """
    with engine.connect() as conn:
        conn.execution_options(**{WRITER_OPTION: True})
        with conn.begin():
            yield conn


def insert_skipping_conflicts(conn: Connection, table: Table, keys: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING, in the connection's dialect.

    For rows whose absence a writer checked first: on PostgreSQL another process can store
    the same key between the check and the insert (its transaction was still open when the
    check ran). Without ON CONFLICT the second insert waits for that commit and then fails
    the whole transaction on the key; with it the row is skipped, and RETURNING (or the
    rowcount) tells the writer what really went in. (SQLite writers never overlap — see
    `writing` — so there it only guards what cannot happen.)
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(keys))


def open_database(url: str, *, create: bool = True,
                  background_checkpoints: bool = False) -> Engine:
    """Open (and, for writers, create) a Siyu database, upgrading an older one in place.

    Readers (`create=False`) upgrade too: a command run after installing a new release
    must not fail on the old schema. A reader's SQLite file that cannot be written (the file
    or its directory read-only) is opened for reading only when its schema is current; a
    write through that engine later fails with SQLITE_READONLY (`sqlite_errors.is_read_only`),
    which the CLI reports in one line. `background_checkpoints`: the live bot's engine, whose
    WAL a `WalCheckpointer` keeps short (ignored for other backends)."""
    path = sqlite_path(url)
    if path is not None and not create and not path.exists():
        raise StorageError(f"{path}: 数据库不存在，请先运行 siyu ingest 导入聊天记录")
    register_tables()
    engine = make_engine(url, background_checkpoints=background_checkpoints)
    if engine.dialect.name == "postgresql":
        try:
            with writing(engine) as conn:
                _prepare_database(conn, display_url(url))
        except OperationalError as exc:
            engine.dispose()
            raise StorageError(f"{display_url(url)}: 无法打开数据库 ({_one_line(exc.orig)})"
                               ) from exc
        except StorageError:
            engine.dispose()
            raise
        return engine
    try:
        # Most opens find the schema at the newest revision: checked by a reader, which never
        # waits for a running import. Creating or upgrading is done by a writer, which checks
        # again.
        with engine.connect() as conn:
            if _schema_ready(conn, url):
                return engine
        with writing(engine) as conn:
            _prepare_database(conn, url)
    except DatabaseError as exc:
        engine.dispose()
        if path is not None and not create and path.exists() and sqlite_errors.cannot_read(exc):
            return _open_read_only(path, url)
        raise sqlite_refusal(exc, path, url) from exc
    except StorageError:
        engine.dispose()
        raise
    return engine


def sqlite_refusal(exc: DatabaseError, path: Path | None, shown: str) -> StorageError:
    """One line for a SQLite database that refused to open (not a database, damaged,
    read-only, …); the file itself is never touched on the way."""
    said = sqlite_errors.describe(exc, path) if path is not None else None
    return StorageError(said or f"{shown}: 无法打开数据库 ({_one_line(exc.orig)})")


def _open_read_only(path: Path, url: str) -> Engine:
    """The database behind `url` through a connection that never writes: reading commands
    work on a file (or directory) without write permission. Only a current schema can be
    read this way, since creating or upgrading one writes."""
    attempts = [False] if sqlite_errors.has_unmerged_wal(path) else [False, True]
    failure: DatabaseError | None = None
    for immutable in attempts:
        engine = make_engine(sqlite_errors.read_only_url(path, immutable=immutable),
                             read_only=True)
        try:
            with engine.connect() as conn:
                if _schema_ready(conn, url):
                    return engine
        except DatabaseError as exc:
            engine.dispose()
            failure = exc
            continue
        except StorageError:
            engine.dispose()
            raise
        engine.dispose()
        raise StorageError(f"{path}: 数据库只读，而它的结构需要先升级才能读取；"
                           "请在有写权限时运行一次 siyu db upgrade")
    if failure is not None and sqlite_errors.has_unmerged_wal(path):
        raise StorageError(f"{path}: 数据库所在目录只读，且 {path.name}-wal 中有尚未合并的数据，"
                           "无法只读打开；请在可写的目录中打开一次（或连同 -wal 文件复制出来）"
                           ) from failure
    assert failure is not None
    raise sqlite_refusal(failure, path, url) from failure


def _schema_ready(conn: Connection, shown: str) -> bool:
    """True when the database is a Siyu database at the newest revision (checked without
    importing Alembic); False when there is something to create, upgrade or refuse, which
    `_prepare_database` does under the write lock."""
    if migrations.current(conn) != migrations.HEAD:
        return False
    _check_version(_meta_version(conn), shown)
    return True


def _prepare_database(conn: Connection, shown: str) -> None:
    """open_database's checks, creation and upgrade, in one write transaction with the lock.

    DDL is transactional on both backends (on SQLite since the driver no longer commits on
    its own), so the revisions' tables, the version row and the Alembic stamp appear together
    or not at all: a process killed halfway leaves an empty database that the next run simply
    creates, or the old one, which the next run upgrades again. The lock (the advisory lock
    on PostgreSQL, BEGIN IMMEDIATE's write lock on SQLite) makes a second process starting at
    the same moment wait and then find the work done.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(PG_SCHEMA_LOCK)))
    tables = set(inspect(conn).get_table_names())
    if "meta" not in tables:
        if tables:
            raise StorageError(f"{shown}: 这不是 Siyu 的数据库（没有 meta 表）")
        migrations.upgrade(conn)
    else:
        revision = migrations.current(conn)
        if revision is None:
            # Written before Alembic: by 13a4b61 or an earlier release of the same version.
            _check_version(_meta_version(conn), shown, expected=PRE_ALEMBIC_VERSION)
            migrations.adopt(conn)
        elif revision != migrations.HEAD and not migrations.known(revision):
            raise SchemaVersionError(
                f"{shown}: 数据库结构版本 {revision} 由更新版本的 siyu 写入，本程序最高只认识 "
                f"{migrations.HEAD}；请升级 siyu 后再打开这个数据库")
        if revision != migrations.HEAD:
            migrations.upgrade(conn)
    _check_version(_meta_version(conn), shown)


def _meta_version(conn: Connection) -> str:
    return conn.scalar(select(META.c.value).where(META.c.key == "schema_version")) or "?"


def _check_version(found: str, shown: str, expected: int | str = SCHEMA_VERSION) -> None:
    """The meta row is what releases before Alembic check (they refuse anything but 1): a
    revision that old releases would misread sets it higher, so they refuse it too."""
    if found != str(expected):
        raise SchemaVersionError(
            f"{shown}: 数据库结构版本为 {found}，本程序需要 {expected}；"
            "请用对应版本的 siyu 打开，或新建数据库后重新导入"
        )
