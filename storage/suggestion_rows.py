"""The shape of a stored suggestion as every part of `SuggestionStore` hands it out.

storage/suggestions.py (drafts and invites), storage/notify_queue.py (pushing them to
operators) and the handlers share these; the table itself is storage/models.py: `Suggestion`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage.models import SUGGESTION

STATUSES = ("pending", "sent", "edited", "dismissed")
ACCEPTED = ("sent", "edited")


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


class Slot(NamedTuple):
    """A member and scenario as `save` sees them (see `SuggestionStore.slot`)."""

    existing: SuggestionRow | None  # the row of this very trigger
    pending: SuggestionRow | None  # the open row, if any
    closed_ts: datetime | None  # newest trigger time among rows already dealt with


class Claim(NamedTuple):
    """What `claim_queued` handed out, and, when the hour is now full, when it frees up."""

    rows: list[SuggestionRow]
    full_until: datetime | None


class OpenConflict(Exception):
    """Reopening a suggestion would make a second pending one of the member and scenario."""

    def __init__(self, sid: int) -> None:
        super().__init__(sid)
        self.sid = sid


class SuggestionReads:
    """How every part of `SuggestionStore` reads whole rows."""

    engine: Engine

    def _rows(self, *where: Any, order: Iterable[Any] = ()) -> list[SuggestionRow]:
        q = select(*_ROW_COLS).where(*where).order_by(*order, SUGGESTION.c.id)
        with self.engine.connect() as conn:
            return [SuggestionRow(*r) for r in conn.execute(q)]
