"""What the suggestion trigger loop reads and keeps: its state, the messages it looks at, the
outcomes of what was sent, which chats are groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    MetaData,
    Table,
    and_,
    bindparam,
    func,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from storage import driver
from storage.db import writing
from storage.driver import Query, chunks
from storage.messages import StoredMessage
from storage.models import CHAT, MEMBER, MESSAGE, STATE, UTCDateTime

# The epoch stands in for "no lower bound" in the prepared statements below.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MSG_COLS = (MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
             MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals)


class TriggerReads:
    """`SuggestionStore`'s trigger-loop state and reads (storage/suggestions.py)."""

    engine: Engine

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
            for part in chunks(sorted(set(ids))):
                out.extend((StoredMessage(*r[:-1]), r[-1]) for r in driver.rows(
                    conn, _TriggerQ.live, {"ids": list(part), "since": since, "until": until}))
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
            for part in chunks(sorted(set(ids))):
                out.extend(StoredMessage(*r) for r in conn.execute(q.where(
                    MESSAGE.c.id.in_(part))))
        return sorted(out, key=lambda m: (m.ts, m.id))

    def first_spoken(self, member_pk: int, since: datetime | None, until: datetime,
                     silent: Iterable[str]) -> StoredMessage | None:
        """A member's first message in (since, until] whose type is not `silent`."""
        found = driver.rows(self.engine, _TriggerQ.first_spoken, {
            "pk": member_pk, "since": since if since is not None else _EPOCH,
            "until": until, "silent": sorted(silent)})
        return StoredMessage(*found[0]) if found else None

    def members_last_active_between(self, lo: datetime, hi: datetime) -> list[int]:
        """Members whose last message falls in (lo, hi]: those who just turned declining."""
        with self.engine.connect() as conn:
            return list(conn.scalars(select(MEMBER.c.id).where(
                MEMBER.c.last_active > lo, MEMBER.c.last_active <= hi).order_by(MEMBER.c.id)))

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


class _TriggerQ:
    """The live hook's message reads, built once (see storage/driver.py)."""

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


def _insert_state(conn: Connection, key: str, value: str) -> None:
    # Two processes may both find the key missing; the loser's value is as good (last run).
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(STATE).values(key=key, value=value)
                     .on_conflict_do_nothing())
    else:
        conn.execute(sqlite.insert(STATE).values(key=key, value=value)
                     .on_conflict_do_nothing())
