"""Suggestions and invites the operator was handed, their fate, and the trigger watermark.

Invites are suggestions of scenario "invite": one table gives every draft one short numeric
handle (the operator answers "已发 12" or "忽略 12" without saying which kind it was) and one
status and outcome path for the feedback report.

Each row remembers its trigger (a message id, "welcome", "declining:<ts>", "activity:<name>");
(member, scenario, trigger) is unique, so a trigger processed twice never makes a second row,
and the handler keeps at most one pending row per member and scenario by updating it.

Several bot processes may share one PostgreSQL database, so the rules that matter are kept by
the database, not by read-then-write in Python: a partial unique index allows one pending row
per member and scenario (invites excepted: one per activity, by the trigger key), inserts are
`ON CONFLICT DO NOTHING` and report whether they won, status changes and updates of an open
draft are conditional on the status they expect, and handing suggestions to an operator claims
them under a lock, so two processes never push the same row or overrun the hourly cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from storage import driver
from storage.db import writing
from storage.driver import Queries, Query, chunks
from storage.models import SUGGESTION
from storage.notify_queue import NotifyQueue
from storage.suggestion_rows import (
    _ROW_COLS,
    ACCEPTED,
    STATUSES,
    OpenConflict,
    Slot,
    SuggestionRow,
)
from storage.trigger_reads import TriggerReads


class SuggestionStore(NotifyQueue, TriggerReads):
    """Repository of suggestions; shares the engine of `storage.repo.Store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, sid: int) -> SuggestionRow | None:
        rows = self._rows(SUGGESTION.c.id == sid)
        return rows[0] if rows else None

    def find(self, member_pk: int, scenario: str, trigger: str) -> SuggestionRow | None:
        rows = self._rows(SUGGESTION.c.member_pk == member_pk, SUGGESTION.c.scenario == scenario,
                          SUGGESTION.c.trigger == trigger)
        return rows[0] if rows else None

    def slot(self, member_pk: int, scenario: str, trigger: str) -> Slot:
        """What `save` needs to know about a member and scenario, in one round trip: the row
        of this trigger, the open row, and the newest trigger time the operator dealt with."""
        params = {"s_pk": member_pk, "s_sc": scenario, "s_tr": trigger}
        found = driver.rows(self.engine, _Q.slot, params)
        closed_ts = found[0][-1]
        rows = [SuggestionRow(*r[:-1]) for r in found if r[0] is not None]
        if closed_ts is not None and closed_ts.tzinfo is None:
            closed_ts = closed_ts.replace(tzinfo=UTC)  # a bare aggregate skips the type
        return Slot(next((r for r in rows if r.trigger == trigger), None),
                    next((r for r in rows if r.status == "pending"), None), closed_ts)

    def known_triggers(self, member_pks: Iterable[int]) -> dict[int, set[tuple[str, str]]]:
        """member → the (scenario, trigger) pairs already stored for them."""
        out: dict[int, set[tuple[str, str]]] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(member_pks))):
                for pk, scenario, trigger in driver.rows(conn, _Q.known, {"pks": list(part)}):
                    out.setdefault(pk, set()).add((scenario, trigger))
        return out

    def open_for(self, member_pk: int, scenario: str,
                 activity: str | None = None) -> SuggestionRow | None:
        """The pending row of this member and scenario (for invites: of this activity)."""
        where = [SUGGESTION.c.member_pk == member_pk, SUGGESTION.c.scenario == scenario,
                 SUGGESTION.c.status == "pending"]
        if activity is not None:
            where.append(SUGGESTION.c.activity == activity)
        rows = self._rows(*where, order=[SUGGESTION.c.trigger_ts.desc()])
        return rows[0] if rows else None

    def latest_closed_ts(self, member_pk: int, scenario: str) -> datetime | None:
        """Trigger time of the newest row the operator already dealt with."""
        with self.engine.connect() as conn:
            return conn.scalar(select(func.max(SUGGESTION.c.trigger_ts)).where(
                SUGGESTION.c.member_pk == member_pk, SUGGESTION.c.scenario == scenario,
                SUGGESTION.c.status != "pending"))

    def insert(self, values: Mapping[str, Any]) -> int | None:
        """Insert a draft; None when a row it would duplicate exists (the same trigger, or a
        second pending row of the member and scenario), e.g. one another process just wrote.

        `ON CONFLICT DO NOTHING` instead of check-then-insert: between a check and an insert
        another bot process on the same database can insert the same row.
        """
        with writing(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                stmt: Any = postgresql.insert(SUGGESTION).on_conflict_do_nothing()
            elif conn.dialect.name == "sqlite":
                stmt = sqlite.insert(SUGGESTION).on_conflict_do_nothing()
            else:  # pragma: no cover - only SQLite and PostgreSQL are supported
                stmt = insert(SUGGESTION)
            res = conn.execute(stmt.values(**values).returning(SUGGESTION.c.id))
            sid = res.scalar()
        return None if sid is None else int(sid)

    def insert_row(self, values: Mapping[str, Any]) -> SuggestionRow | None:
        """`insert`, returning the stored row (one round trip instead of insert + get)."""
        with writing(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                found = conn.execute(_Q.insert_pg, dict(values)).all()
            else:
                found = driver.rows(conn, _Q.inserts[frozenset(values)], values)
        return SuggestionRow(*found[0]) if found else None

    def update_open(self, sid: int, values: Mapping[str, Any]) -> SuggestionRow | None:
        """Refresh a draft while it is still pending; the updated row, or None if the operator
        (or another process) closed it meanwhile."""
        with writing(self.engine) as conn:
            row = conn.execute(_Q.update_open, {**values, "u_sid": sid}).first()
        return None if row is None else SuggestionRow(*row)

    def update(self, sid: int, values: Mapping[str, Any], *,
               expect_status: str | None = None) -> bool:
        """Update a row; with `expect_status`, only while it still has that status.

        The handler refreshes an open draft in place; if the operator (or another process)
        closed it in the meantime, the refresh must not rewrite a row already dealt with, so
        False tells the caller to look again.
        """
        q = update(SUGGESTION).where(SUGGESTION.c.id == sid)
        if expect_status is not None:
            q = q.where(SUGGESTION.c.status == expect_status)
        with writing(self.engine) as conn:
            return bool(conn.execute(q.values(**values)).rowcount)

    def set_status(self, sid: int, status: str, at: datetime,
                   final_text: str | None = None, *, expect: str | None = None) -> bool:
        """Record what the operator did; with `expect`, only if the row still has that status.

        Two operators answering "已发 12" and "忽略 12" at once (or two bot processes) both read
        "pending"; the conditional update lets exactly one of them win. Undoing to "pending"
        while a newer draft of the same kind is already pending would make two open rows and
        raises `OpenConflict`.
        """
        if status not in STATUSES:
            raise ValueError(status)
        try:
            return self.update(sid, {"status": status, "status_at": at,
                                     "final_text": final_text, "updated_at": at},
                               expect_status=expect)
        except IntegrityError as exc:
            raise OpenConflict(sid) from exc

    def for_member(self, member_pk: int) -> list[SuggestionRow]:
        return self._rows(SUGGESTION.c.member_pk == member_pk)

    def all(self, until: datetime | None = None) -> list[SuggestionRow]:
        where = [] if until is None else [SUGGESTION.c.created_at <= until]
        return self._rows(*where)

    def last_sent_invites(self, until: datetime) -> dict[int, datetime]:
        """member → when they were last sent any invite (up to `until`)."""
        q = (select(SUGGESTION.c.member_pk, func.max(SUGGESTION.c.status_at))
             .where(SUGGESTION.c.scenario == "invite", SUGGESTION.c.status.in_(ACCEPTED),
                    SUGGESTION.c.status_at <= until)
             .group_by(SUGGESTION.c.member_pk))
        with self.engine.connect() as conn:
            return {pk: ts for pk, ts in conn.execute(q)}

    def invites_for(self, activity: str) -> dict[int, SuggestionRow]:
        """member → their row for this activity (pending, sent or dismissed)."""
        return {r.member_pk: r for r in self._rows(SUGGESTION.c.scenario == "invite",
                                                   SUGGESTION.c.activity == activity)}


class _Q:
    """The live hook's statements, built once with bound parameters.

    Building a SQLAlchemy statement and its cache key costs more than SQLite takes to run
    these indexed lookups; the live path runs them for every message.
    """

    S = SUGGESTION.c
    _closed = (select(func.max(S.trigger_ts))
               .where(S.member_pk == bindparam("s_pk"), S.scenario == bindparam("s_sc"),
                      S.status != "pending").scalar_subquery())
    # One row with the closed time even when no suggestion matches: the rows hang off it
    # by an outer join, so `slot` is one statement, never a second one for the time alone.
    _closed_row = select(_closed.label("closed_ts")).subquery("closed_row")
    slot = Query(select(*_ROW_COLS, _closed_row.c.closed_ts)
                 .select_from(_closed_row.outerjoin(SUGGESTION, and_(
                     S.member_pk == bindparam("s_pk"), S.scenario == bindparam("s_sc"),
                     (S.trigger == bindparam("s_tr")) | (S.status == "pending"))))
                 .order_by(S.trigger_ts.desc(), S.id))
    known = Query(select(S.member_pk, S.scenario, S.trigger)
                  .where(S.member_pk.in_(bindparam("pks", expanding=True))))
    insert_sqlite = sqlite.insert(SUGGESTION).on_conflict_do_nothing().returning(*_ROW_COLS)
    # `insert_sqlite` per set of columns given (the hook always gives the same ones).
    inserts: ClassVar[Queries[frozenset[str]]] = Queries(
        lambda keys: Query(_Q.insert_sqlite, column_keys=keys))
    insert_pg = postgresql.insert(SUGGESTION).on_conflict_do_nothing().returning(*_ROW_COLS)
    update_open = (update(SUGGESTION)
                   .where(S.id == bindparam("u_sid"), S.status == "pending")
                   .returning(*_ROW_COLS))


