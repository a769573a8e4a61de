"""Alembic's entry point for these scripts: run by `storage.migrations` (inside the open
transaction of storage/db.py: open_database) and by a developer's `alembic` command line.

Offline (`--sql`) mode is not supported: the baseline creates its tables through a live
connection.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage.db import make_engine, register_tables, writing

config = context.config
# Autogenerate compares the database with every model, wherever its module keeps it.
register_tables()


def run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=SQLModel.metadata,
                      # SQLite alters a table by copying it: autogenerate writes batch ops.
                      render_as_batch=conn.dialect.name == "sqlite", compare_type=True,
                      # Also on SQLite: storage/db.py's connections send BEGIN themselves.
                      transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("siyu 的迁移脚本不支持 --sql 离线模式；请用 -x db=URL 连接数据库运行")
given: Connection | None = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    # The command line: `alembic -c storage/migrations/alembic.ini -x db=URL …`.
    url = context.get_x_argument(as_dictionary=True).get("db")
    if not url:
        raise SystemExit("请用 -x db=URL 指定数据库，例如 -x db=sqlite:///siyu.db")
    engine = make_engine(url)
    try:
        with writing(engine) as conn:
            run(conn)
    finally:
        engine.dispose()
