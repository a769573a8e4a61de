"""The schema's history as Alembic revisions (versions/), and the calls storage/db.py makes.

How to add a revision and how it is tested: README.md beside this file.

Alembic is imported inside these functions only: `siyu --help` never loads it, and neither
does opening a database already at `HEAD` (storage/db.py compares the stored revision with
this constant first). The test suite checks that `HEAD` is the newest file in versions/.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# The newest revision; move it with every new file in versions/.
HEAD = "0006"
# 13a4b61's schema: a database written before Alembic is brought to it and stamped with it.
BASELINE = "0001"
VERSION_TABLE = "alembic_version"
DIRECTORY = Path(__file__).resolve().parent


def config(conn: Connection | None = None) -> Config:
    """Alembic's configuration for these scripts; `conn` is the connection env.py migrates
    (in its open transaction), or None for env.py to open the URL it is given."""
    from alembic.config import Config

    # Alembic announces each of its plugins at INFO: noise in the live bot's log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    cfg = Config()
    cfg.set_main_option("script_location", str(DIRECTORY))
    cfg.attributes["connection"] = conn
    return cfg


def scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config())


def current(conn: Connection) -> str | None:
    """The revision stored in the database, or None when Alembic has never stamped it."""
    if VERSION_TABLE not in inspect(conn).get_table_names():
        return None
    return conn.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))


def known(revision: str) -> bool:
    """Whether `revision` is one of ours (else a newer release wrote the database)."""
    from alembic.util import CommandError

    try:
        return scripts().get_revision(revision) is not None
    except CommandError:  # alembic's ResolutionError is one
        return False


def upgrade(conn: Connection) -> None:
    """Every revision after the stored one, inside `conn`'s transaction."""
    from alembic import command

    command.upgrade(config(conn), "head")


def adopt(conn: Connection) -> None:
    """A database written before Alembic (meta schema_version 1, no alembic_version): give
    it what the baseline has and it lacks (see versions/0001_baseline.py: adopt), then stamp
    it with the baseline, so `upgrade` continues from there."""
    from alembic import command

    baseline = scripts().get_revision(BASELINE)
    assert baseline is not None
    baseline.module.adopt(conn)
    command.stamp(config(conn), BASELINE)
