"""Suggestions and invites the operator was handed, their fate, and the trigger watermark.

Invites are suggestions of scenario "invite": one table gives every draft one short numeric
handle (the operator answers "已发 12" or "忽略 12" without saying which kind it was) and one
status and outcome path for the feedback report.

Each row remembers its trigger (a message id, "welcome", "declining:<ts>", "activity:<name>");
(member, scenario, trigger) is unique, so a trigger processed twice never makes a second row,
and the handler keeps at most one pending row per member and scenario by updating it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

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
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from storage.db import writing
from storage.models import UTCDateTime, _dt
from storage.repo import CHAT, MEMBER, MESSAGE, StoredMessage, _chunks

STATUSES = ("pending", "sent", "edited", "dismissed")
ACCEPTED = ("sent", "edited")


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Suggestion(SQLModel, table=True):
    """A reply script or invite drafted for the operator, and what became of it."""

    __table_args__ = (
        UniqueConstraint("member_pk", "scenario", "trigger"),
        Index("ix_suggestion_open", "member_pk", "scenario", "status"),
        Index("ix_suggestion_notify", "operator", "notified_at"),
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

    def known_triggers(self, member_pks: Iterable[int]) -> dict[int, set[tuple[str, str]]]:
        """member → the (scenario, trigger) pairs already stored for them."""
        out: dict[int, set[tuple[str, str]]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(member_pks))):
                q = select(SUGGESTION.c.member_pk, SUGGESTION.c.scenario, SUGGESTION.c.trigger
                           ).where(SUGGESTION.c.member_pk.in_(part))
                for pk, scenario, trigger in conn.execute(q):
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

    def insert(self, values: Mapping[str, Any]) -> int:
        with writing(self.engine) as conn:
            return int(conn.execute(insert(SUGGESTION).values(**values)).inserted_primary_key[0])

    def update(self, sid: int, values: Mapping[str, Any]) -> None:
        with writing(self.engine) as conn:
            conn.execute(update(SUGGESTION).where(SUGGESTION.c.id == sid).values(**values))

    def set_status(self, sid: int, status: str, at: datetime,
                   final_text: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        self.update(sid, {"status": status, "status_at": at, "final_text": final_text,
                          "updated_at": at})

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
        opted_in = select(MEMBER.c.id).where(MEMBER.c.opted_out.is_(False))
        return self._rows(SUGGESTION.c.status == "pending", SUGGESTION.c.notified_at.is_(None),
                          SUGGESTION.c.source == "hook",
                          SUGGESTION.c.member_pk.in_(opted_in),
                          order=[SUGGESTION.c.trigger_ts])

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
