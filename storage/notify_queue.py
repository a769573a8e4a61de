"""Handing queued suggestions to operators: the push queue, the hourly cap, the push log.

The live hook queues the scripts it drafts (storage/suggestions.py); `claim_queued` hands an
operator the most urgent ones the hour still allows, under a lock, so two bot processes never
push the same row or overrun the cap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import bindparam, case, func, insert, literal, select, update
from sqlalchemy.engine import Connection

from storage import driver
from storage.db import PG_SCHEMA_LOCK, writing
from storage.driver import Queries, Query, chunks
from storage.models import MEMBER, NOTIFY_LOG, SUGGESTION
from storage.suggestion_rows import _ROW_COLS, Claim, SuggestionReads, SuggestionRow

_HOUR = timedelta(hours=1)


class NotifyQueue(SuggestionReads):
    """`SuggestionStore`'s push queue (storage/suggestions.py)."""

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
            if not driver.rows(conn, _NotifyQ.waiting, params):
                return Claim([], None)
        ranked = _NotifyQ.claims[tuple(priority)]
        with writing(self.engine) as conn:
            _write_lock(conn, f"notify:{operator}")
            used, oldest = _hour(conn, params)
            if used >= cap:
                return Claim([], _reopens(oldest, cap))
            rows = [SuggestionRow(*r) for r in driver.rows(conn, ranked,
                                                           {**params, "n": cap - used})]
            if rows:
                driver.rows(conn, _NotifyQ.mark, {"ids": [r.id for r in rows], "at": now})
                driver.write_many(conn, _NotifyQ.log_push, [
                    {"member_pk": r.member_pk, "operator": operator, "at": now} for r in rows])
        full = used + len(rows) >= cap
        return Claim([r._replace(notified_at=now) for r in rows],
                     (min(oldest or now, now) + _HOUR) if full else None)

    def mark_notified(self, ids: Iterable[int], at: datetime) -> None:
        with writing(self.engine) as conn:
            for part in chunks(sorted(set(ids))):
                conn.execute(update(SUGGESTION).where(SUGGESTION.c.id.in_(part))
                             .values(notified_at=at))
                rows = conn.execute(select(SUGGESTION.c.member_pk, SUGGESTION.c.operator)
                                    .where(SUGGESTION.c.id.in_(part))).all()
                if rows:
                    conn.execute(insert(NOTIFY_LOG), [
                        {"member_pk": pk, "operator": op, "at": at} for pk, op in rows])


def _queued_where() -> list[Any]:
    """The push queue: pending hook rows not yet handed out, of members still opted in."""
    opted_in = select(MEMBER.c.id).where(MEMBER.c.opted_out.is_(False))
    return [SUGGESTION.c.status == "pending", SUGGESTION.c.notified_at.is_(None),
            SUGGESTION.c.source == "hook", SUGGESTION.c.member_pk.in_(opted_in)]


class _NotifyQ:
    """`claim_queued`'s statements, built once (see storage/driver.py).

    Until the operator's hour is full, every suggestion the hook queues is claimed at once,
    so these run for a run's first few dozen triggering messages (and after each hour frees
    up): through Core they were a new community's slowest messages.
    """

    S = SUGGESTION.c
    _N = NOTIFY_LOG.c
    hour = Query(select(func.count(), func.min(_N.at))
                 .where(_N.operator == bindparam("op"), _N.at > bindparam("since")))
    _claimable = (*_queued_where(), S.operator == bindparam("op"),
                  S.trigger_ts >= bindparam("fresh"), S.trigger_ts <= bindparam("now"))
    waiting = Query(select(literal(1)).where(*_claimable).limit(1))
    mark = Query(update(SUGGESTION).where(S.id.in_(bindparam("ids", expanding=True)))
                 .values(notified_at=bindparam("at")))
    log_push = Query(insert(NOTIFY_LOG))

    @classmethod
    def ranked(cls, priority: Sequence[str]) -> Query:
        """The queued rows most urgent first: scenario in `priority` order, newest trigger."""
        S = cls.S
        rank = case({s: i for i, s in enumerate(priority)}, value=S.scenario,
                    else_=len(priority))
        return Query(select(*_ROW_COLS).where(*cls._claimable)
                     .order_by(rank, S.trigger_ts.desc(), S.id).limit(bindparam("n")))

    # The ranked read, one per priority order (the playbook's: one per process in practice).
    claims: ClassVar[Queries[tuple[str, ...]]] = Queries(lambda priority: _NotifyQ.ranked(priority))


def _hour(conn: Connection, params: Mapping[str, Any]) -> tuple[int, datetime | None]:
    """Pushes to operator `op` after `since`, and the oldest of them."""
    n, oldest = driver.rows(conn, _NotifyQ.hour, params)[0]
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
