"""Erasure that sticks: keyed hashes of erased platform ids, which imports and the bot skip.

Deleting a member is not enough while her chats are still exported: the next import (or her
next message to the live bot) would create her again. So `siyu forget` and /删除 leave, for
each of her platform ids, HMAC-SHA256("platform\\x1fplatform id") under a random key kept in
this database (`meta` row `suppression_key`). The table holds those hashes and nothing else:
no name, no id, no date. Checking a sender means hashing their id with the same key; opting
back in (/恢复) deletes the hashes of the sender's id.

The key is made at the first erasure. A database with no suppression rows costs an import or
a live message one indexed read (`suppressed_in` returns at once when the table is empty).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import Connection, Engine

from storage.db import insert_skipping_conflicts, writing
from storage.models import SUPPRESSION

KEY_ROW = "suppression_key"
_SEP = "\x1f"


def _meta() -> Table:
    # meta is declared with the models; looked up by name so this module needs no more.
    from sqlmodel import SQLModel

    return SQLModel.metadata.tables["meta"]


def _key(conn: Connection, *, create: bool) -> bytes | None:
    """This database's HMAC key (made on first use when `create`): random, never shown."""
    meta = _meta()
    found = conn.scalar(select(meta.c.value).where(meta.c.key == KEY_ROW))
    if found is None and create:
        # Two erasures at once on PostgreSQL: one insert wins, both read the winner's key.
        conn.execute(insert_skipping_conflicts(conn, meta, ["key"]).values(
            key=KEY_ROW, value=secrets.token_hex(32)))
        found = conn.scalar(select(meta.c.value).where(meta.c.key == KEY_ROW))
    return None if found is None else bytes.fromhex(found)


def _digest(key: bytes, platform: str, platform_id: str) -> str:
    return hmac.new(key, f"{platform}{_SEP}{platform_id}".encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()


def suppress(conn: Connection, ids: Iterable[tuple[str, str]]) -> int:
    """Add the hashes of (platform, platform id) pairs, inside the caller's erasure
    transaction; returns how many were new."""
    key = _key(conn, create=True)
    assert key is not None
    added = 0
    for digest in sorted({_digest(key, p, i) for p, i in ids}):
        stmt = insert_skipping_conflicts(conn, SUPPRESSION, ["hash"]).values(hash=digest)
        if conn.dialect.name == "postgresql":
            # psycopg reports rowcount -1 here; RETURNING says whether the row went in.
            added += conn.execute(stmt.returning(SUPPRESSION.c.hash)).first() is not None
        else:
            added += conn.execute(stmt).rowcount or 0
    return added


def suppressed_in(conn: Connection, ids: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (platform, platform id) pairs belong to someone who was forgotten."""
    if conn.scalar(select(SUPPRESSION.c.hash).limit(1)) is None:
        return set()
    key = _key(conn, create=False)
    if key is None:
        return set()
    by_digest = {_digest(key, p, i): (p, i) for p, i in set(ids)}
    found: set[tuple[str, str]] = set()
    digests = sorted(by_digest)
    for start in range(0, len(digests), 500):
        part = digests[start:start + 500]
        found.update(by_digest[d] for d in conn.scalars(
            select(SUPPRESSION.c.hash).where(SUPPRESSION.c.hash.in_(part))))
    return found


class SuppressionStore:
    """The checks and the opt-in that the bot's routers and live path ask for."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def is_suppressed(self, platform: str, platform_id: str) -> bool:
        with self.engine.connect() as conn:
            return bool(suppressed_in(conn, [(platform, platform_id)]))

    def lift(self, platform: str, platform_id: str) -> bool:
        """Opting back in: the sender's hash goes; True when there was one."""
        with writing(self.engine) as conn:
            key = _key(conn, create=False)
            if key is None:
                return False
            res = conn.execute(delete(SUPPRESSION).where(
                SUPPRESSION.c.hash == _digest(key, platform, platform_id)))
            return bool(res.rowcount)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(SUPPRESSION)) or 0)
