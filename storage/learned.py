"""The learned interest words (`learned_interest`) and what learning reads.

Learning (persona/learned.py) reads each chat message's stored keywords and hand interest
hits, and each member's order categories, up to one moment; the set it learns is stored whole,
replacing the last, with that moment in `meta` (`learned_as_of`), so a reader knows whether
the stored set may stand for the moment it judges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Text, delete, insert, select, type_coerce, update
from sqlalchemy.engine import Engine

from persona.learned import LearnedWord, LearnMessage
from persona.persona import SILENT_TYPES
from storage.db import META, writing
from storage.driver import chunks
from storage.models import LEARNED, MEMBER, MESSAGE, ORDER

AS_OF_KEY = "learned_as_of"


# Signals documents kept decoded while reading: chat's repeats hit, and an import of mostly
# distinct texts does not keep every document it ever read (≈ 1 KiB each).
_DECODED_KEPT = 20_000

class LearnedSet(NamedTuple):
    """The stored words and the moment they were learned as of."""

    as_of: datetime
    words: tuple[LearnedWord, ...]


class LearnedStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def learning_messages(self, until: datetime, skip: frozenset[int] = frozenset()
                          ) -> Iterator[LearnMessage]:
        """Every chat message up to `until` that has content words, in (time, id) order,
        leaving out the members in `skip` (staff). Each distinct signals document is
        decoded once: chat repeats itself."""
        cols = (MESSAGE.c.member_pk, MESSAGE.c.id, MESSAGE.c.ts, MESSAGE.c.type,
                type_coerce(MESSAGE.c.signals, Text))
        q = (select(*cols).where(MESSAGE.c.ts <= until)
             .order_by(MESSAGE.c.ts, MESSAGE.c.id))
        decoded: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        with self.engine.connect() as conn:
            for pk, mid, ts, mtype, raw in conn.execute(q):
                if mtype in SILENT_TYPES or pk in skip:
                    continue
                key = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True)
                parts = decoded.get(key)
                if parts is None:
                    if len(decoded) >= _DECODED_KEPT:
                        decoded.clear()  # distinct texts would keep every document here
                    doc: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw) or {}
                    parts = decoded[key] = (tuple(map(str.lower, doc.get("k", ()))),
                                            tuple(doc.get("i", {})))
                if parts[0]:
                    yield LearnMessage(pk, mid, _aware(ts), *parts)

    def bought(self, until: datetime) -> dict[int, set[str]]:
        """Each member's order categories up to `until`."""
        q = select(ORDER.c.member_pk, ORDER.c.category).where(
            ORDER.c.ts <= until, ORDER.c.category.is_not(None)).distinct()
        out: dict[int, set[str]] = {}
        with self.engine.connect() as conn:
            for pk, category in conn.execute(q):
                if category:
                    out.setdefault(pk, set()).add(category)
        return out

    def saved(self) -> LearnedSet | None:
        """The stored set, or None when nothing was ever learned in this database."""
        with self.engine.connect() as conn:
            stamp = conn.execute(select(META.c.value).where(META.c.key == AS_OF_KEY)).scalar()
            if stamp is None:
                return None
            rows = conn.execute(select(LEARNED).order_by(LEARNED.c.word)).all()
        words = tuple(LearnedWord(r.word, r.code, r.source, tuple(r.basis), r.messages,
                                  r.members, r.support, r.score, tuple(r.quotes)) for r in rows)
        return LearnedSet(datetime.fromisoformat(stamp), words)

    def save(self, learned: LearnedSet, stale: Iterable[int] = ()) -> None:
        """Replace the stored set, and mark `stale` the members whose tags it changes, in one
        transaction: a reader never sees new words beside tags built from the old ones
        without the flag that rebuilds them."""
        stamp = learned.as_of.astimezone(UTC).isoformat()
        with writing(self.engine) as conn:
            conn.execute(delete(LEARNED))
            if learned.words:
                conn.execute(insert(LEARNED), [
                    {"word": w.word, "code": w.code, "source": w.source, "basis": list(w.basis),
                     "messages": w.messages, "members": w.members, "support": w.support,
                     "score": w.score, "quotes": list(w.quotes)} for w in learned.words])
            conn.execute(delete(META).where(META.c.key == AS_OF_KEY))
            conn.execute(insert(META).values(key=AS_OF_KEY, value=stamp))
            for part in chunks(sorted(set(stale))):
                conn.execute(update(MEMBER).where(MEMBER.c.id.in_(part))
                             .values(tags_stale=True))


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
