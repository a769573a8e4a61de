"""What the live persona cache (handlers/live_personas.py) reads: fact versions, segments.

The cache keeps members' histories between messages; one indexed query per member tells it
whether another process added or erased a fact since (`fact_versions`), and one query over the
members only gives their rows of the newest segmentation run (`run_segments`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.engine import Engine

from storage import driver
from storage.driver import Query, chunks
from storage.models import EVENT, MEMBER_SEGMENT, MESSAGE, ORDER, RUN
from storage.segments import SEGMENT_FIELDS


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
    """The live persona cache's statements, built once (see storage/driver.py)."""

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
            for part in chunks(sorted(set(pks))):
                for pk, *values in driver.rows(conn, _FactQ.segments,
                                               {"pks": list(part), "until": until}):
                    out[pk] = dict(zip(SEGMENT_FIELDS, values, strict=True))
        return out
