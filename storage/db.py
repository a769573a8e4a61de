"""Engines and schema: SQLite with WAL by default, PostgreSQL through the same URL setting.

Opening a database checks its stored schema version, so a database written by another version
of Siyu fails with a clear sentence instead of a confusing SQL error deep in a command.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, SQLModel, create_engine, select

from storage.models import SCHEMA_VERSION, Meta


def _register_tables() -> None:
    """Import every storage module so all their tables join the metadata before create_all.

    Features keep their tables in their own storage modules (storage/business.py, …);
    discovering them here means adding a feature never edits a shared list.
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
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"--db: 无法识别的数据库地址 {url!r}") from exc
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps}
    if parsed.get_backend_name() == "sqlite":
        # Writers wait for each other instead of failing at once with "database is locked".
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers (a report, the bot) run while an import writes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def open_database(url: str, *, create: bool = True) -> Engine:
    """Open (and, for writers, create) a Siyu database, refusing other schema versions."""
    path = sqlite_path(url)
    if path is not None and not create and not path.exists():
        raise StorageError(f"{path}: 数据库不存在，请先运行 siyu ingest 导入聊天记录")
    _register_tables()
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    except OperationalError as exc:
        raise StorageError(f"{url}: 无法打开数据库 ({exc.orig})") from exc
    if "meta" not in tables:
        if tables - {"meta"}:
            raise StorageError(f"{url}: 这不是 Siyu 的数据库（没有 meta 表）")
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            session.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
            session.commit()
        return engine
    with Session(engine) as session:
        row = session.exec(select(Meta).where(Meta.key == "schema_version")).first()
    found = row.value if row else "?"
    if found != str(SCHEMA_VERSION):
        raise SchemaVersionError(
            f"{url}: 数据库结构版本为 {found}，本程序需要 {SCHEMA_VERSION}；"
            "请用对应版本的 siyu 打开，或新建数据库后重新导入"
        )
    # Tables added by a compatible later step of the same version are created on the fly.
    SQLModel.metadata.create_all(engine)
    return engine
