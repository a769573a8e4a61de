"""Opt-out, erasure and manual tags: the writes that members and operators ask for."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, delete, func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from storage.db import insert_skipping_conflicts, writing
from storage.members import MemberRow, ensure_members
from storage.models import IDENTITY, MEMBER, MEMBER_SEGMENT, RUN, TAG, TAGS
from storage.suppression import suppress

log = logging.getLogger("siyu.storage")


@dataclass
class Erasure:
    """What one erasure did: her rows deleted and other rows scrubbed of her (per table),
    the stored segmentation runs that counted her (their summaries must be recomputed
    without her), and how many of her platform ids were suppressed."""

    deleted: dict[str, int] = field(default_factory=dict)
    scrubbed: dict[str, int] = field(default_factory=dict)
    runs: list[int] = field(default_factory=list)
    suppressed: int = 0

    @property
    def removed(self) -> dict[str, int]:
        """Rows deleted or changed per table (what `forget_member` has always returned)."""
        out = dict(self.deleted)
        for table, n in self.scrubbed.items():
            out[table] = out.get(table, 0) + n
        return out


def secure_delete(conn: Connection) -> None:
    """SQLite: zero what this connection deletes or overwrites from now on (upstream SQLite
    leaves it in free pages and the WAL; some builds default to on, not all). A no-op
    elsewhere. Per connection: every transaction that removes a member's data calls it."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete=ON")


class PrivacyStore:
    """Opt-out, erasure and manual tags: the writes that members and operators ask for."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_member(self, platform: str, platform_id: str, name: str) -> int:
        """The member pk for a platform id, creating the member if this is their first word."""
        with writing(self.engine) as conn:
            pks, _created = ensure_members(conn, {(platform, platform_id): name})
            return pks[platform, platform_id]

    def set_opted_out(self, pk: int, opted_out: bool) -> None:
        with writing(self.engine) as conn:
            conn.execute(update(MEMBER).where(MEMBER.c.id == pk).values(opted_out=opted_out))

    def forget_member(self, pk: int) -> dict[str, int]:
        """Erase a member from every table (no suppression: `erase` for the whole job);
        returns rows removed per table."""
        return self.erase(pk, suppress_ids=False).removed

    def erase(self, pk: int, *, suppress_ids: bool = True) -> Erasure:
        """Erase a member from every table, in one transaction, with SQLite's secure_delete
        on; with `suppress_ids`, her platform ids' hashes go into `suppression` in the same
        transaction, so no import can slip in between.

        Every table with a `member_pk` column loses the member's rows (features add tables
        without touching this code), then stored documents without a member column (segment
        runs: assignments, card quotes) are scrubbed of the member's id, name and message ids.
        The runs that counted her are returned: their counts, cards and patterns still hold
        what she contributed until `handlers/privacy.py` recomputes them.
        """
        out = Erasure()
        with writing(self.engine) as conn:
            secure_delete(conn)
            row = conn.execute(select(MEMBER.c.member_id, MEMBER.c.name)
                               .where(MEMBER.c.id == pk)).first()
            if row is None:
                return out
            member_id, name = row
            # The ids of everything of theirs (messages, orders, …): stored documents cite
            # them as evidence, so they are scrubbed like the name.
            msg_ids = _evidence_ids(conn, pk)
            identities = conn.execute(select(IDENTITY.c.platform, IDENTITY.c.platform_id)
                                      .where(IDENTITY.c.member_pk == pk)).all()
            secrets = {member_id, name, *(i for _, i in identities)} - {""}
            out.runs = _runs_counting(conn, pk, secrets)
            tables = SQLModel.metadata.sorted_tables
            _delete_member_rows(conn, pk, tables, out.deleted)
            if _replace_in_text(conn, tables, secrets, out.scrubbed):
                _drop_packed_tags_naming(conn)
            _scrub_documents(conn, tables, secrets, msg_ids, out.scrubbed)
            if suppress_ids:
                out.suppressed = suppress(conn, [(p, i) for p, i in identities])
        return out

    def find_exact(self, query: str) -> list[MemberRow]:
        """The members `query` names exactly: member id or platform id, else name. No
        substring and no case folding: erasing is not a search."""
        base = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                      MEMBER.c.last_active, MEMBER.c.opted_out)
        if not query:
            return []
        with self.engine.connect() as conn:
            rows = [MemberRow(*r) for r in conn.execute(base.where(or_(
                MEMBER.c.member_id == query,
                MEMBER.c.id.in_(select(IDENTITY.c.member_pk)
                                .where(IDENTITY.c.platform_id == query)))).order_by(MEMBER.c.id))]
            if not rows:
                rows = [MemberRow(*r) for r in conn.execute(
                    base.where(MEMBER.c.name == query).order_by(MEMBER.c.id))]
        return rows

    def wipe_files(self, attempts: int = 20) -> bool:
        """SQLite: rewrite the database file (VACUUM) and truncate the WAL, so no byte of an
        erased member stays in either file. True when both were done.

        secure_delete zeroes what the erasure itself removes, but not what earlier writes
        freed without it (a tag rebuild replacing her tags, a page split moving her rows):
        those copies sit in free pages and in the unused space of pages until VACUUM copies
        only the live rows into a fresh file. Its cost grows with the file (it rewrites all
        of it), which an erasure, rare and not to be half done, is worth. Then the WAL,
        which holds the old pages too, is checkpointed and truncated to nothing; a reader
        in the middle of a read holds it, so that is retried for about two seconds.
        PostgreSQL: nothing here; docs/privacy.md says what VACUUM there does and does not.
        """
        if self.engine.dialect.name != "sqlite":
            return True
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            try:
                cur.execute("VACUUM")
            except sqlite3.OperationalError as exc:  # another writer kept the lock
                log.warning("已删除，但整理数据库文件未完成（%s）：删除的内容可能还留在文件的"
                            "空闲空间里，请在没有导入时对数据库执行 VACUUM", exc)
                return False
            finally:
                cur.close()
            for _ in range(attempts):
                cur = raw.cursor()
                busy, _log, _done = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                cur.close()
                if not busy:
                    return True
                time.sleep(0.1)
            return False
        finally:
            raw.close()

    def set_manual_tag(self, pk: int, code: str, label: str, add: bool,
                       at: datetime | None = None) -> bool:
        """Add or remove an operator's manual tag; returns whether anything changed."""
        with writing(self.engine) as conn:
            exists = conn.scalar(select(TAG.c.id).where(
                TAG.c.member_pk == pk, TAG.c.code == code, TAG.c.source == "manual"))
            if add and not exists:
                # Two operators tagging the same member from two bot processes on PostgreSQL
                # both see "not there"; the key (member, code, source) lets one insert win
                # and the other learn that nothing changed, instead of failing on UNIQUE.
                stmt = insert_skipping_conflicts(conn, TAG, ["member_pk", "code", "source"]).values(
                    member_pk=pk, code=code, kind="manual", label=label, score=1.0,
                    evidence=[], expires_at=None, source="manual", computed_at=at)
                if conn.dialect.name == "postgresql":
                    # psycopg reports rowcount -1 for the implicit RETURNING of the new id.
                    return conn.execute(stmt.returning(TAG.c.id)).first() is not None
                return bool(conn.execute(stmt).rowcount)
            if not add and exists:
                conn.execute(delete(TAG).where(TAG.c.id == exists))
                return True
            return False


def _runs_counting(conn: Connection, pk: int, secrets: set[str]) -> list[int]:
    """The stored runs the member is part of: a row in member_segment, or (runs stored
    before those rows) her id inside the document's assignments."""
    runs = set(conn.scalars(select(MEMBER_SEGMENT.c.run_id)
                            .where(MEMBER_SEGMENT.c.member_pk == pk)))
    named = or_(*(cast(RUN.c.result, Text).contains(s, autoescape=True) for s in secrets))
    for run_id, result in conn.execute(select(RUN.c.id, RUN.c.result).where(named)):
        inline = result.get("assignments") if isinstance(result, dict) else None
        if isinstance(inline, dict) and secrets & set(inline):
            runs.add(run_id)
    return sorted(runs)


def _count(removed: dict[str, int], table: str, n: int) -> None:
    if n:
        removed[table] = removed.get(table, 0) + n


def _evidence_ids(conn: Connection, pk: int) -> set[str]:
    """The text keys of the member's rows in every table with a member column (message ids,
    order ids, …): what stored documents cite as evidence. A message's key is (id, chat_id);
    documents cite its id, its first column, never the chat."""
    ids: set[str] = set()
    for table in SQLModel.metadata.sorted_tables:
        keys = [c for c in table.primary_key.columns if c.name != "member_pk"]
        if "member_pk" in table.c and keys:
            ids.update(str(v) for v in conn.scalars(
                select(keys[0]).where(table.c.member_pk == pk)) if isinstance(v, str))
    return ids


def _delete_member_rows(conn: Connection, pk: int, tables: Sequence[Table],
                        removed: dict[str, int]) -> None:
    """Delete the member's rows from every table with a member column (dependents first),
    then the member."""
    for table in reversed(tables):
        if table.name == "member":
            continue
        if "member_pk" in table.c:
            res = conn.execute(delete(table).where(table.c.member_pk == pk))
            removed[table.name] = res.rowcount or 0
    res = conn.execute(delete(MEMBER).where(MEMBER.c.id == pk))
    removed["member"] = res.rowcount or 0


def _replace_in_text(conn: Connection, tables: Sequence[Table], secrets: set[str],
                     removed: dict[str, int]) -> bool:
    """Other members' words can name them ("@小确幸 收到～"): the name and ids are replaced
    inside every text column of the rows that remain. A one-character name is left alone:
    replacing it everywhere would rewrite unrelated words. True when tags were rewritten."""
    scrubbed_tags = False
    for table in tables:
        if table.name in ("member", "identity"):
            # Other members' own names and ids: "Lily" erased must not rename "小李Lily".
            continue
        for col in table.c:
            if col.primary_key or not _is_text(col):
                continue
            for secret in sorted(s for s in secrets if len(s) >= 2):
                n = _replace_in(conn, table, col, secret, "某成员")
                _count(removed, table.name, n)
                scrubbed_tags |= bool(n) and table.name == "tag"
    return scrubbed_tags


def _drop_packed_tags_naming(conn: Connection) -> None:
    """Other members' tag evidence rewritten: their packed copies (counted from the evidence
    as it was) are dropped, so segmentation reads the tag table."""
    conn.execute(delete(TAGS).where(TAGS.c.member_pk.in_(
        select(TAG.c.member_pk).where(or_(
            TAG.c.label.contains("某成员"),
            cast(TAG.c.evidence, Text).contains("某成员"))))))


def _scrub_documents(conn: Connection, tables: Sequence[Table], secrets: set[str],
                     msg_ids: set[str], removed: dict[str, int]) -> None:
    """Tables without a member column can still name the member: a private chat keyed by
    their id, an audit line, a card quoting them. Rows keyed by a secret go; the values of
    the others are scrubbed (`_scrub`)."""
    for table in tables:
        if "member_pk" in table.c or table.name in ("member", "meta"):
            continue
        key = next(iter(table.primary_key.columns))
        cols = [c for c in table.c if c is not key]
        for rec in conn.execute(select(key, *cols)).all():
            if isinstance(rec[0], str) and rec[0] in secrets:
                conn.execute(delete(table).where(key == rec[0]))
                _count(removed, table.name, 1)
                continue
            changed = _scrubbed_row(cols, rec[1:], secrets, msg_ids)
            if changed is not None:
                conn.execute(update(table).where(key == rec[0]).values(**changed))
                _count(removed, table.name, 1)


def _scrubbed_row(cols: Sequence[Any], values: Sequence[Any], secrets: set[str],
                  msg_ids: set[str]) -> dict[str, Any] | None:
    """The row's values scrubbed, by column name (a value that scrubs away entirely becomes
    "[已删除]"); None when nothing changed."""
    changed = {c.name: _scrub(values[i], secrets, msg_ids) for i, c in enumerate(cols)}
    changed = {k: ("[已删除]" if v is None and values[i] is not None else v)
               for i, (k, v) in enumerate(changed.items())}
    if any(changed[c.name] != values[i] for i, c in enumerate(cols)):
        return changed
    return None


def _is_text(col: Any) -> bool:
    kind = col.type
    # SQLModel's AutoString wraps String in a TypeDecorator; look through it.
    base = getattr(kind, "impl_instance", None) or getattr(kind, "impl", kind)
    return isinstance(kind, String | JSON) or isinstance(base, String | JSON)


def _replace_in(conn: Connection, table: Table, col: Any, secret: str, by: str) -> int:
    """Replace `secret` inside one text or JSON column, in SQL; returns rows changed."""
    target = cast(col, Text) if isinstance(col.type, JSON) else col
    replaced = func.replace(target, secret, by)
    if isinstance(col.type, JSON) and conn.dialect.name != "sqlite":
        # PostgreSQL needs the text cast back to json. SQLite keeps JSON as text already,
        # and there CAST(… AS JSON) means NUMERIC affinity: the document would become 0.
        replaced = cast(replaced, col.type)
    res = conn.execute(update(table).where(target.contains(secret, autoescape=True))
                       .values({col.name: replaced}))
    return res.rowcount or 0


def _scrub(value: Any, secrets: set[str], msg_ids: set[str]) -> Any:
    """A copy of a JSON value with everything pointing at one member removed (None: the
    whole value is about them)."""
    if isinstance(value, dict):
        return _scrub_object(value, secrets, msg_ids)
    if isinstance(value, list):
        items = [_scrub(v, secrets, msg_ids) for v in value]
        return [v for v, orig in zip(items, value, strict=True) if v is not None or orig is None]
    if isinstance(value, str):
        return _scrub_text(value, secrets, msg_ids)
    return value


# Keys whose value says whom (or which message) an object is about.
_NAMING_KEYS = ("id", "member_id", "message_id", "name")


def _scrub_object(value: dict[str, Any], secrets: set[str], msg_ids: set[str]
                  ) -> dict[str, Any] | None:
    """None for an object about the member (a naming key holds one of their ids or their
    name); else a copy without keys that name them, members that scrub away dropped."""
    if any(isinstance(v, str) and (v in secrets or v in msg_ids) for k, v in value.items()
           if k in _NAMING_KEYS):
        return None
    out = {k: _scrub(v, secrets, msg_ids) for k, v in value.items() if k not in secrets}
    return {k: v for k, v in out.items() if v is not None or value.get(k) is None}


def _scrub_text(value: str, secrets: set[str], msg_ids: set[str]) -> str | None:
    """None for a text that is one of their ids or their name; else the text with their
    name and ids (two characters or more) replaced."""
    if value in secrets or value in msg_ids:
        return None
    for secret in secrets:
        if len(secret) >= 2 and secret in value:
            value = value.replace(secret, "某成员")
    return value
