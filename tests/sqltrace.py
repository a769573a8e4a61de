"""What SQLite itself runs, for tests that count or inspect statements.

A `before_cursor_execute` listener would see only what goes through SQLAlchemy's cursor, and
its presence sends every statement that way (`storage/driver.py`: a watched engine takes
Core's path), so a test counting with it would count a path the bot no longer takes. sqlite3's
trace callback sees every statement SQLite runs, whichever layer sent it, BEGIN and COMMIT
included, without changing the path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


def trace(engine: Engine, *, queries_only: bool = False) -> list[str]:
    """Every statement the engine's connections run from now on, as SQLite ran it (bound
    values written in); `queries_only` leaves out BEGIN/COMMIT/ROLLBACK."""
    seen: list[str] = []

    def record(sql: str) -> None:
        sql = sql.strip()
        if not (queries_only and sql in CONTROL):
            seen.append(sql)

    def on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.set_trace_callback(record)

    event.listen(engine, "checkout", on_checkout)
    return seen
