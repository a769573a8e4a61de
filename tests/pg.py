"""PostgreSQL for the tests: where the server is, the skip-or-fail rule, a fresh database each.

`SIYU_TEST_PG` names a server the tests may use, as a SQLAlchemy URL whose role may create
databases (`.ci/run` starts one with `.ci/postgres start` and exports it, e.g.
`postgresql+psycopg://siyu:siyu@127.0.0.1:55432/siyu_test`). Without it, or without psycopg,
or when the server does not answer, the PostgreSQL tests skip on a developer's machine, but
fail on CI (`CI=true`), where PostgreSQL is installed on purpose and a skip would hide a broken
build: `require_postgres()` is that rule, written once.

`fresh_database(base)` creates an empty database with a unique name next to the one in the
URL and drops it afterwards (forcing out connections a failed test left behind), so every test
starts from nothing and tests never see each other's rows.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ProgrammingError, SQLAlchemyError

ENV = "SIYU_TEST_PG"


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail on CI, which installs and starts PostgreSQL."""
    if on_ci():
        pytest.fail(f"PostgreSQL test environment incomplete on CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL test environment incomplete: {reason}")


def missing_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    url = os.environ.get(ENV, "").strip()
    if not url:
        return f"{ENV} is not set (.ci/postgres start prints a URL for it)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        engine = admin_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        return f"{ENV}: cannot connect ({str(exc.orig or exc).strip().splitlines()[0]})"
    return None


_checked: dict[str, str | None] = {}


def require_postgres() -> str:
    """The server's URL from SIYU_TEST_PG; skips (or, on CI, fails) the test when unusable."""
    url = os.environ.get(ENV, "").strip()
    if url not in _checked:  # one connection attempt per URL and test session
        _checked[url] = missing_reason()
    reason = _checked[url]
    if reason is not None:
        unavailable(reason)
    return url


def admin_engine(url: str) -> Engine:
    """An autocommit engine on the URL's own database: CREATE/DROP DATABASE need no txn."""
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@contextmanager
def fresh_database(base: str) -> Iterator[str]:
    """A new empty database on the server of `base`; yields its URL, drops it afterwards."""
    name = f"siyu_t_{uuid.uuid4().hex[:12]}"
    admin = admin_engine(base)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(base).set(database=name).render_as_string(hide_password=False)
        finally:
            drop_database(admin, name)
    finally:
        admin.dispose()


def drop_database(admin: Engine, name: str, tries: int = 20) -> None:
    """DROP … WITH (FORCE) (PostgreSQL 13+): a subprocess or engine a failing test left open
    must not keep the database alive.

    FORCE may only end sessions of our own role. Right after a test's writes the server can
    have a background worker of its own in the database (seen once: "must be a member of the
    role whose process is being terminated"); it is gone a moment later, so try again.
    """
    for attempt in range(tries):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError as exc:
            if "must be a member of the role" not in str(exc) or attempt == tries - 1:
                raise
            time.sleep(0.25)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, order-independent: for "nothing changed" comparisons."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for name in inspect(engine).get_table_names():
            rows = conn.execute(select(meta.tables[name])).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out
