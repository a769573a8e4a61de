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

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from storage import driver
from storage.business import EVENT, ORDER
from storage.db import PG_SCHEMA_LOCK, writing
from storage.driver import Query
from storage.models import UTCDateTime, _dt
from storage.repo import CHAT, MEMBER, MESSAGE, Prepared, StoredMessage, _chunks, _executemany
from storage.segments import MEMBER_SEGMENT, RUN, SEGMENT_FIELDS

STATUSES = ("pending", "sent", "edited", "dismissed")
ACCEPTED = ("sent", "edited")


# Predicates of the partial indexes, as SQL both SQLite and PostgreSQL read the same way.
_ONE_OPEN = "status = 'pending' AND scenario <> 'invite'"
_QUEUED = "status = 'pending' AND notified_at IS NULL AND source = 'hook'"


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Suggestion(SQLModel, table=True):
    """A reply script or invite drafted for the operator, and what became of it."""

    __table_args__ = (
        UniqueConstraint("member_pk", "scenario", "trigger"),
        Index("ix_suggestion_open", "member_pk", "scenario", "status"),
        Index("ix_suggestion_notify", "operator", "notified_at"),
        # One pending draft per member and scenario, held by the database: two bot processes
        # drafting for the same member at once cannot both insert one (invites are one per
        # activity instead, which the unique trigger key already holds).
        Index("ux_suggestion_one_open", "member_pk", "scenario", unique=True,
              sqlite_where=text(_ONE_OPEN), postgresql_where=text(_ONE_OPEN)),
        # The push queue (pending hook rows not yet handed out), per operator, by trigger
        # time: the live hook reads its head on every message, so it must not scan the table.
        Index("ix_suggestion_queue", "operator", "trigger_ts",
              sqlite_where=text(_QUEUED), postgresql_where=text(_QUEUED)),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Erasing a member (siyu forget) erases what was drafted for them.
    member_pk: int = Field(sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"),
                                            nullable=False, index=True))
    scenario: str
    trigger: str
    trigger_ts: datetime = _dt(nullable=False)
    message_id: str | None = None
    chat_id: str | None = None
    activity: str | None = None
    segment: str | None = None
    operator: str = "operator"
    # How it was made: "hook" (pushed to the operator, rate limited), "demand" (the operator
    # asked: `siyu suggest`), "invite" (`siyu invite`). Only hook rows wait in the push queue.
    source: str = "hook"
    variant: str = "default"
    template_text: str = ""
    text: str = ""
    alternatives: list[str] = _json(list)
    why: list[str] = _json(list)
    reasons: list[dict[str, Any]] = _json(list)
    segments: dict[str, Any] = _json(dict)
    next_action: str = "private_chat"
    polished: bool = False
    status: str = "pending"
    # What the operator really sent, when they edited the script first.
    final_text: str | None = None
    created_at: datetime = _dt(nullable=False)
    updated_at: datetime = _dt(nullable=False)
    notified_at: datetime | None = _dt()
    status_at: datetime | None = _dt()


class SuggestState(SQLModel, table=True):
    """Small facts of the trigger loop: the message watermark and the last run."""

    __tablename__ = "suggest_state"

    key: str = Field(primary_key=True)
    value: str


class NotifyLog(SQLModel, table=True):
    """Every push of a suggestion to an operator. The hourly cap counts these, not the
    suggestions' `notified_at`, which a newer trigger resets when it re-queues a row."""

    __tablename__ = "notify_log"
    __table_args__ = (Index("ix_notify_log_operator_at", "operator", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    member_pk: int = Field(sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"),
                                            nullable=False, index=True))
    operator: str
    at: datetime = _dt(nullable=False)


SUGGESTION: Table = Suggestion.__table__  # type: ignore[assignment]
STATE: Table = SuggestState.__table__  # type: ignore[assignment]
NOTIFY_LOG: Table = NotifyLog.__table__  # type: ignore[assignment]
_ROW_COLS = tuple(c for c in SUGGESTION.c)


class SuggestionRow(NamedTuple):
    id: int
    member_pk: int
    scenario: str
    trigger: str
    trigger_ts: datetime
    message_id: str | None
    chat_id: str | None
    activity: str | None
    segment: str | None
    operator: str
    source: str
    variant: str
    template_text: str
    text: str
    alternatives: list[str]
    why: list[str]
    reasons: list[dict[str, Any]]
    segments: dict[str, Any]
    next_action: str
    polished: bool
    status: str
    final_text: str | None
    created_at: datetime
    updated_at: datetime
    notified_at: datetime | None
    status_at: datetime | None


# Rows are built positionally from the table's columns: the two lists must never drift.
assert SuggestionRow._fields == tuple(c.name for c in _ROW_COLS)


class SuggestionStore:
    """Repository of suggestions; shares the engine of `storage.repo.Store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ---- suggestions ---------------------------------------------------------------------
    def _rows(self, *where: Any, order: Iterable[Any] = ()) -> list[SuggestionRow]:
        q = select(*_ROW_COLS).where(*where).order_by(*order, SUGGESTION.c.id)
        with self.engine.connect() as conn:
            return [SuggestionRow(*r) for r in conn.execute(q)]

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
            for part in _chunks(sorted(set(member_pks))):
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
                keys = frozenset(values)
                query = _Q.inserts.get(keys)
                if query is None:
                    query = _Q.inserts[keys] = Query(_Q.insert_sqlite, column_keys=keys)
                found = driver.rows(conn, query, values)
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

    # ---- invites -------------------------------------------------------------------------
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

    # ---- notification queue --------------------------------------------------------------
    def notified_since(self, operator: str, since: datetime) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(NOTIFY_LOG).where(
                NOTIFY_LOG.c.operator == operator, NOTIFY_LOG.c.at > since)) or 0

    def queued(self) -> list[SuggestionRow]:
        """Pending hook suggestions not yet pushed to their operator, members still opted in."""
        return self._rows(*_queued_where(), order=[SUGGESTION.c.trigger_ts])

    def queue_sizes(self, fresh_after: datetime, until: datetime) -> dict[str, int]:
        """operator → how many queued rows with a trigger in [fresh_after, until] wait."""
        q = (select(SUGGESTION.c.operator, func.count())
             .where(*_queued_where(), SUGGESTION.c.trigger_ts >= fresh_after,
                    SUGGESTION.c.trigger_ts <= until)
             .group_by(SUGGESTION.c.operator))
        with self.engine.connect() as conn:
            return {op: int(n) for op, n in conn.execute(q)}

    def claim_queued(self, operator: str, cap: int, now: datetime, fresh_after: datetime,
                     priority: Sequence[str]) -> Claim:
        """Hand `operator` the most urgent queued rows the hourly cap still allows.

        Most urgent first: scenario in `priority` order, then the newest trigger. The rows are
        marked notified and logged in one transaction that first takes a lock (an advisory
        lock per operator on PostgreSQL, the write lock on SQLite) and then counts the hour's
        pushes, so two processes never hand out the same row or more than `cap` an hour.
        Nothing is locked when the hour is already full or nothing waits.
        """
        hour_ago = now - _HOUR
        params = {"op": operator, "since": hour_ago, "fresh": fresh_after, "now": now}
        with self.engine.connect() as conn:
            used, oldest = _hour(conn, params)
            if used >= cap:
                return Claim([], _reopens(oldest, cap))
            if not driver.rows(conn, _Q.waiting, params):
                return Claim([], None)
        ranked = _Q.claims.get(tuple(priority))
        if ranked is None:
            ranked = _Q.claims[tuple(priority)] = _Q.ranked(priority)
        with writing(self.engine) as conn:
            _write_lock(conn, f"notify:{operator}")
            used, oldest = _hour(conn, params)
            if used >= cap:
                return Claim([], _reopens(oldest, cap))
            rows = [SuggestionRow(*r) for r in driver.rows(conn, ranked,
                                                           {**params, "n": cap - used})]
            if rows:
                driver.rows(conn, _Q.mark, {"ids": [r.id for r in rows], "at": now})
                _executemany(conn, _Q.log_push, [
                    {"member_pk": r.member_pk, "operator": operator, "at": now} for r in rows])
        full = used + len(rows) >= cap
        return Claim([r._replace(notified_at=now) for r in rows],
                     (min(oldest or now, now) + _HOUR) if full else None)

    def mark_notified(self, ids: Iterable[int], at: datetime) -> None:
        with writing(self.engine) as conn:
            for part in _chunks(sorted(set(ids))):
                conn.execute(update(SUGGESTION).where(SUGGESTION.c.id.in_(part))
                             .values(notified_at=at))
                rows = conn.execute(select(SUGGESTION.c.member_pk, SUGGESTION.c.operator)
                                    .where(SUGGESTION.c.id.in_(part))).all()
                if rows:
                    conn.execute(insert(NOTIFY_LOG), [
                        {"member_pk": pk, "operator": op, "at": at} for pk, op in rows])

    # ---- trigger loop state --------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(STATE.c.value).where(STATE.c.key == key))

    def get_states(self, keys: Iterable[str]) -> dict[str, str]:
        """Several state values in one round trip (the live hook reads two per message)."""
        with self.engine.connect() as conn:
            return dict(conn.execute(select(STATE.c.key, STATE.c.value)
                                     .where(STATE.c.key.in_(list(keys)))).all())

    def advance_state(self, key: str, value: str, also: Mapping[str, str] = {}) -> None:
        """Set `key` to `value` only if that moves it forward (ISO UTC times compare as text),
        and the `also` keys unconditionally, in one transaction.

        The watermark is shared by every bot process on the database; a plain write from a
        process handling an older message would move it back.
        """
        with writing(self.engine) as conn:
            done = conn.execute(update(STATE).where(STATE.c.key == key, STATE.c.value < value)
                                .values(value=value)).rowcount
            if not done and conn.scalar(select(STATE.c.key).where(STATE.c.key == key)) is None:
                _insert_state(conn, key, value)
            for k, v in also.items():
                if not conn.execute(update(STATE).where(STATE.c.key == k).values(value=v)
                                    ).rowcount:
                    _insert_state(conn, k, v)

    def set_state(self, values: Mapping[str, str]) -> None:
        with writing(self.engine) as conn:
            for key, value in values.items():
                done = conn.execute(update(STATE).where(STATE.c.key == key).values(value=value))
                if not done.rowcount:
                    conn.execute(insert(STATE).values(key=key, value=value))

    def messages_between(self, since: datetime | None, until: datetime
                         ) -> list[StoredMessage]:
        """Messages with since < ts <= until, oldest first (the trigger loop's input)."""
        q = select(MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
                   MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals).where(MESSAGE.c.ts <= until)
        if since is not None:
            q = q.where(MESSAGE.c.ts > since)
        with self.engine.connect() as conn:
            return [StoredMessage(*r) for r in conn.execute(q.order_by(MESSAGE.c.ts,
                                                                        MESSAGE.c.id))]

    def live_messages(self, ids: Iterable[str], since: datetime | None, until: datetime
                      ) -> list[tuple[StoredMessage, datetime | None]]:
        """`messages_by_ids`, each with its sender's first_seen (one query: the live hook
        needs both for every message)."""
        out: list[tuple[StoredMessage, datetime | None]] = []
        since = since if since is not None else _EPOCH
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(ids))):
                out.extend((StoredMessage(*r[:-1]), r[-1]) for r in driver.rows(
                    conn, _Q.live, {"ids": list(part), "since": since, "until": until}))
        return sorted(out, key=lambda mf: (mf[0].ts, mf[0].id))

    def messages_by_ids(self, ids: Iterable[str], since: datetime | None, until: datetime
                        ) -> list[StoredMessage]:
        """The stored messages among `ids` with since < ts <= until, oldest first.

        The live hook's input: only the message just ingested, by primary key, instead of
        the whole look-back window. Ids that were not stored (an opted-out sender) are absent.
        """
        q = select(MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
                   MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals).where(MESSAGE.c.ts <= until)
        if since is not None:
            q = q.where(MESSAGE.c.ts > since)
        out: list[StoredMessage] = []
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(ids))):
                out.extend(StoredMessage(*r) for r in conn.execute(q.where(
                    MESSAGE.c.id.in_(part))))
        return sorted(out, key=lambda m: (m.ts, m.id))

    def first_spoken(self, member_pk: int, since: datetime | None, until: datetime,
                     silent: Iterable[str]) -> StoredMessage | None:
        """A member's first message in (since, until] whose type is not `silent`."""
        found = driver.rows(self.engine, _Q.first_spoken, {
            "pk": member_pk, "since": since if since is not None else _EPOCH,
            "until": until, "silent": sorted(silent)})
        return StoredMessage(*found[0]) if found else None

    def members_last_active_between(self, lo: datetime, hi: datetime) -> list[int]:
        """Members whose last message falls in (lo, hi]: those who just turned declining."""
        with self.engine.connect() as conn:
            return list(conn.scalars(select(MEMBER.c.id).where(
                MEMBER.c.last_active > lo, MEMBER.c.last_active <= hi).order_by(MEMBER.c.id)))

    # ---- outcomes ------------------------------------------------------------------------
    def member_messages_after(self, member_pk: int, after: datetime, until: datetime
                              ) -> list[tuple[datetime, str, str | None]]:
        """(ts, type, text) of a member's messages in (after, until], oldest first."""
        q = (select(MESSAGE.c.ts, MESSAGE.c.type, MESSAGE.c.text)
             .where(MESSAGE.c.member_pk == member_pk, MESSAGE.c.ts > after,
                    MESSAGE.c.ts <= until).order_by(MESSAGE.c.ts))
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]

    def orders_after(self, member_pk: int, after: datetime, until: datetime) -> int | None:
        """Orders of a member in (after, until], or None when no order table is there.

        Orders are another feature's table (storage/business.py, "orders"); it is probed, not
        imported, so suggestions work with or without it.
        """
        order = self._order_table()
        if order is None:
            return None
        if not isinstance(order.c.ts.type, UTCDateTime):
            # A reflected table stores naive UTC on SQLite, as every Siyu table does.
            after, until = (t.astimezone(UTC).replace(tzinfo=None) for t in (after, until))
        member_col = order.c.get("member_pk")
        where: list[Any] = [order.c.ts > after, order.c.ts <= until]
        if member_col is not None:
            where.append(member_col == member_pk)
        elif "member_id" in order.c:
            where.append(order.c.member_id == select(MEMBER.c.member_id)
                         .where(MEMBER.c.id == member_pk).scalar_subquery())
        else:
            return None
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(order).where(and_(*where))) or 0

    def _order_table(self) -> Table | None:
        insp = inspect(self.engine)
        name = next((n for n in ("orders", "order") if insp.has_table(n)), None)
        if name is None:
            return None
        table = SQLModel.metadata.tables.get(name)
        if table is None:
            table = Table(name, MetaData(), autoload_with=self.engine)
        return table if "ts" in table.c else None

    def group_chat_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.scalars(select(CHAT.c.id).where(CHAT.c.is_group.is_(True))))

    def is_group_chat(self, chat_id: str) -> bool:
        """One primary-key lookup, instead of every group id, for the operator check."""
        with self.engine.connect() as conn:
            return bool(conn.scalar(select(literal(1)).where(
                CHAT.c.id == chat_id, CHAT.c.is_group.is_(True))))


# The epoch stands in for "no lower bound" in the prepared statements below.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MSG_COLS = (MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
             MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals)


def _queued_where() -> list[Any]:
    """The push queue: pending hook rows not yet handed out, of members still opted in."""
    opted_in = select(MEMBER.c.id).where(MEMBER.c.opted_out.is_(False))
    return [SUGGESTION.c.status == "pending", SUGGESTION.c.notified_at.is_(None),
            SUGGESTION.c.source == "hook", SUGGESTION.c.member_pk.in_(opted_in)]


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
    inserts: ClassVar[dict[frozenset[str], Query]] = {}
    insert_pg = postgresql.insert(SUGGESTION).on_conflict_do_nothing().returning(*_ROW_COLS)
    update_open = (update(SUGGESTION)
                   .where(S.id == bindparam("u_sid"), S.status == "pending")
                   .returning(*_ROW_COLS))
    live = Query(select(*_MSG_COLS, MEMBER.c.first_seen)
                 .join(MEMBER, MEMBER.c.id == MESSAGE.c.member_pk)
                 .where(MESSAGE.c.id.in_(bindparam("ids", expanding=True)),
                        MESSAGE.c.ts > bindparam("since"), MESSAGE.c.ts <= bindparam("until")))
    first_spoken = Query(select(*_MSG_COLS)
                         .where(MESSAGE.c.member_pk == bindparam("pk"),
                                MESSAGE.c.ts > bindparam("since"),
                                MESSAGE.c.ts <= bindparam("until"),
                                MESSAGE.c.type.not_in(bindparam("silent", expanding=True)))
                         .order_by(MESSAGE.c.ts, MESSAGE.c.id).limit(1))
    # `claim_queued`: until the operator's hour is full, every suggestion the hook queues is
    # claimed at once, so these run for a run's first few dozen triggering messages (and
    # after each hour frees up): through Core they were a new community's slowest messages.
    _N = NOTIFY_LOG.c
    hour = Query(select(func.count(), func.min(_N.at))
                 .where(_N.operator == bindparam("op"), _N.at > bindparam("since")))
    _claimable = (*_queued_where(), S.operator == bindparam("op"),
                  S.trigger_ts >= bindparam("fresh"), S.trigger_ts <= bindparam("now"))
    waiting = Query(select(literal(1)).where(*_claimable).limit(1))
    # The ranked read, one per priority order (the playbook's: one per process in practice).
    claims: ClassVar[dict[tuple[str, ...], Query]] = {}
    mark = Query(update(SUGGESTION).where(S.id.in_(bindparam("ids", expanding=True)))
                 .values(notified_at=bindparam("at")))
    log_push = Prepared(insert(NOTIFY_LOG))

    @classmethod
    def ranked(cls, priority: Sequence[str]) -> Query:
        """The queued rows most urgent first: scenario in `priority` order, newest trigger."""
        S = cls.S
        rank = case({s: i for i, s in enumerate(priority)}, value=S.scenario,
                    else_=len(priority))
        return Query(select(*_ROW_COLS).where(*cls._claimable)
                     .order_by(rank, S.trigger_ts.desc(), S.id).limit(bindparam("n")))


class Slot(NamedTuple):
    """A member and scenario as `save` sees them (see `SuggestionStore.slot`)."""

    existing: SuggestionRow | None  # the row of this very trigger
    pending: SuggestionRow | None  # the open row, if any
    closed_ts: datetime | None  # newest trigger time among rows already dealt with


class Claim(NamedTuple):
    """What `claim_queued` handed out, and, when the hour is now full, when it frees up."""

    rows: list[SuggestionRow]
    full_until: datetime | None


def _hour(conn: Connection, params: Mapping[str, Any]) -> tuple[int, datetime | None]:
    """Pushes to operator `op` after `since`, and the oldest of them."""
    n, oldest = driver.rows(conn, _Q.hour, params)[0]
    if oldest is not None and isinstance(oldest, str):
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # SQLite keeps naive UTC; min() skips the type
    return int(n or 0), oldest


def _reopens(oldest: datetime | None, cap: int) -> datetime | None:
    """When a full hour frees a slot: the oldest push turns an hour old (a cap of 0 never)."""
    if cap <= 0:
        return datetime.max.replace(tzinfo=UTC)
    return None if oldest is None else oldest + _HOUR


class OpenConflict(Exception):
    """Reopening a suggestion would make a second pending one of the member and scenario."""

    def __init__(self, sid: int) -> None:
        super().__init__(sid)
        self.sid = sid


_HOUR = timedelta(hours=1)


def _insert_state(conn: Connection, key: str, value: str) -> None:
    # Two processes may both find the key missing; the loser's value is as good (last run).
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(STATE).values(key=key, value=value)
                     .on_conflict_do_nothing())
    else:
        conn.execute(sqlite.insert(STATE).values(key=key, value=value)
                     .on_conflict_do_nothing())


def _write_lock(conn: Connection, name: str) -> None:
    """Serialise a read-then-write section across processes, until the transaction ends.

    Call it inside `writing()`. PostgreSQL: a transaction advisory lock on a key derived from
    `name`. SQLite needs nothing more: `writing()` began with BEGIN IMMEDIATE, so this
    transaction already holds the database's only write lock.
    """
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(),
                             "big") - 2**31
        conn.execute(select(func.pg_advisory_xact_lock(PG_SCHEMA_LOCK, key)))


class FactVersion(NamedTuple):
    """How many messages, orders and content events a member has, and the newest of each.

    The live persona cache (handlers/live_personas.py) compares this with what it holds: a
    row another process added or erased changes a count (rows are only ever inserted or
    deleted, never edited in place), so a cached history is known stale with one indexed
    query instead of being read again.
    """

    messages: int
    newest_message: datetime | None
    orders: int
    newest_order: datetime | None
    events: int
    newest_event: datetime | None


def _count_newest(table: Table) -> tuple[Any, Any]:
    where = table.c.member_pk == bindparam("pk")
    return (select(func.count()).select_from(table).where(where).scalar_subquery(),
            select(func.max(table.c.ts)).where(where).scalar_subquery())


class _FactQ:
    """The live persona cache's statements, built once (see `_Q`)."""

    version = Query(select(*_count_newest(MESSAGE), *_count_newest(ORDER),
                           *_count_newest(EVENT)))
    _run = (select(RUN.c.id).where(RUN.c.as_of <= bindparam("until"))
            .order_by(RUN.c.as_of.desc(), RUN.c.id.desc()).limit(1).scalar_subquery())
    segments = Query(select(MEMBER_SEGMENT.c.member_pk,
                            *(MEMBER_SEGMENT.c[f] for f in SEGMENT_FIELDS))
                     .where(MEMBER_SEGMENT.c.run_id == _run,
                            MEMBER_SEGMENT.c.member_pk.in_(bindparam("pks", expanding=True))))


class LiveFactStore:
    """Reads the live persona cache needs: fact versions and the latest run's segments."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def fact_versions(self, pks: Iterable[int]) -> dict[int, FactVersion]:
        with self.engine.connect() as conn:
            return {pk: FactVersion(*driver.rows(conn, _FactQ.version, {"pk": pk})[0])
                    for pk in pks}

    def run_segments(self, pks: Iterable[int], until: datetime
                     ) -> dict[int, dict[str, str | None]]:
        """The members' rows of the newest segmentation run as of `until` (as
        `SegmentStore.latest_run` + `member_segments`, in one query over the members only)."""
        out: dict[int, dict[str, str | None]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(pks))):
                for pk, *values in driver.rows(conn, _FactQ.segments,
                                               {"pks": list(part), "until": until}):
                    out[pk] = dict(zip(SEGMENT_FIELDS, values, strict=True))
        return out
