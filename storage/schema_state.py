"""Where a database's schema stands, as `siyu db current` reports it: looked at without
creating, upgrading or locking anything, through a read-only connection when the file or
its directory cannot be written."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

from storage import migrations, sqlite_errors
from storage.db import StorageError, display_url, make_engine, sqlite_path, sqlite_refusal


class SchemaState(NamedTuple):
    """Where a database's schema stands, as `siyu db current` reports it."""

    shown: str  # the database as it may be shown (display_url)
    revision: str | None  # its Alembic revision; None before Alembic and when empty
    # "current" (at HEAD), "behind" (an older revision), "pre_alembic" (written by 13a4b61
    # or before), "newer" (a revision this code does not know), "empty" (nothing created yet)
    state: str


def schema_state(url: str) -> SchemaState:
    """What `open_database` would find, without creating, upgrading or locking anything."""
    path = sqlite_path(url)
    shown = str(path) if path is not None else display_url(url)
    if path is not None and not path.exists():
        raise StorageError(f"{path}: 数据库不存在，请先运行 siyu ingest 导入聊天记录")
    try:
        revision = _stored_revision(make_engine(url), shown)
    except DatabaseError as exc:
        if path is None or not sqlite_errors.cannot_read(exc):
            raise sqlite_refusal(exc, path, shown) from exc
        # A read-only file or directory: looked at through a connection that cannot write.
        ro = sqlite_errors.read_only_url(path, immutable=not sqlite_errors.has_unmerged_wal(path))
        try:
            revision = _stored_revision(make_engine(ro, read_only=True), shown)
        except DatabaseError as again:
            raise sqlite_refusal(again, path, shown) from again
    if revision == "":
        return SchemaState(shown, None, "empty")
    if revision is None:
        return SchemaState(shown, None, "pre_alembic")
    if revision == migrations.HEAD:
        return SchemaState(shown, revision, "current")
    return SchemaState(shown, revision, "behind" if migrations.known(revision) else "newer")


def _stored_revision(engine: Engine, shown: str) -> str | None:
    """The database's Alembic revision (None before Alembic, "" when nothing is created)."""
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if "meta" not in tables:
                if tables:
                    raise StorageError(f"{shown}: 这不是 Siyu 的数据库（没有 meta 表）")
                return ""
            return migrations.current(conn)
    finally:
        engine.dispose()
