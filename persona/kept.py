"""What the tag rebuild keeps beside a member's tags so segmentation runs need not re-read them.

A rebuild (handlers/personas.py) has every message, order and tag of the members it
rebuilds in hand; a segmentation run as of a later moment would otherwise pass over all of
them again. So the rebuild keeps, per member, the message aggregates (`KeptActivity`), the
top keywords (`KeptKeywords`) and the derived tags in the shape segmentation reads them
(`KeptTags`); storage stores them (storage/segment_kept.py) and the columnar reader uses them only
while they still hold for the run's as_of.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from persona.member_table import TAG_KINDS_READ
from persona.persona import MessageRecord

# Message types that are not chat: they neither count as messages nor make a member active.
SILENT_TYPES = frozenset({"system", "recall"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class KeptKeywords:
    """A member's top keywords and what they were counted over: the newest chat message
    (microseconds since the epoch) and the number of chat messages. A segmentation run as of
    a later moment reuses them only when both still match (`storage.models.MemberKeywords`)."""

    through_us: int
    messages: int
    words: tuple[str, ...]


def kept_keywords(records: Sequence[MessageRecord], top: int) -> KeptKeywords | None:
    """A member's top keywords from their whole history, in the order cards show them: most
    used first, ties by the newest use (a newest-first scan; messages of one moment in their
    stored order). None for a member without chat messages: nothing a run would reuse."""
    chat = [r.ts for r in records if r.type not in SILENT_TYPES]
    if not chat:
        return None
    words: Counter[str] = Counter()
    # sorted() is stable, so messages of the same moment keep the order they were read in
    for rec in sorted(records, key=lambda r: r.ts, reverse=True):
        words.update(rec.signals.keywords)
    newest = max(chat).astimezone(UTC)
    return KeptKeywords((newest - _EPOCH) // timedelta(microseconds=1), len(chat),
                        tuple(w for w, _ in words.most_common(top)))


# Newest chat message times a member's activity row keeps: the rules cap the recent-message
# count at 30 (the frequency tag's cap), so these are enough to count it for any later as_of.
RECENT_KEPT = 30


@dataclass(frozen=True, slots=True)
class KeptActivity:
    """A member's message aggregates as the tag rebuild saw them (times in microseconds since
    the epoch), so a segmentation run need not pass over every message to count them again.

    Holds for a run exactly when the member's stored tags do and were computed in the same
    rebuild (`computed_us` equal to the tags' computed_at): the rebuild reads every message up
    to its as_of, and any message stored later marks the member stale.
    """

    computed_us: int
    messages: int  # chat messages (system notices and recalls are not chat)
    first_us: int | None  # first chat message
    last_us: int | None  # last chat message
    joined_us: int | None  # first join notice, which also starts "first seen"
    recent_us: tuple[int, ...]  # the newest RECENT_KEPT chat message times, newest first


def _us(ts: datetime) -> int:
    return (ts.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)


def kept_activity(records: Sequence[MessageRecord], as_of: datetime) -> KeptActivity:
    """A member's message aggregates from the history a tag rebuild loaded (up to `as_of`,
    its computed_at); the same numbers `storage.segment_inputs.ColumnReader` counts in SQL."""
    chat = sorted((_us(r.ts) for r in records if r.type not in SILENT_TYPES), reverse=True)
    joins = [_us(r.ts) for r in records if r.type == "system" and r.signals.join is not None]
    return KeptActivity(_us(as_of), len(chat), chat[-1] if chat else None,
                        chat[0] if chat else None, min(joins) if joins else None,
                        tuple(chat[:RECENT_KEPT]))


@dataclass(frozen=True, slots=True)
class KeptTag:
    """One derived tag segmentation reads, as the tag rebuild stored it, with the numbers the
    columnar reader otherwise works out in SQL from the `tag` table (times in microseconds
    since the epoch, None for none)."""

    kind: str
    code: str
    label: str
    score: float
    expires_us: int | None  # intents only (the reader filters them by as_of)
    chat_evidence: int  # motivation only: evidence ids that are not the member's orders
    evidence_len: int  # motivation only
    evidence: tuple[str, ...]  # intents only (dynamic tags cite it)


@dataclass(frozen=True, slots=True)
class KeptTags:
    """A member's derived tags in the shape segmentation reads them, kept beside the `tag`
    table by the rebuild that wrote those tags (`storage.models.MemberTags`), so a run reads
    one row per member instead of scanning every tag row (5.9M at a million members).

    `computed_us` is the tags' computed_at. The chat-evidence counts are fixed at rebuild
    time: the rebuild judges as of the newest fact, so it sees every order the member has,
    and any order stored later marks the member stale, which a run never trusts.
    """

    computed_us: int
    tags: tuple[KeptTag, ...]  # in the persona's tag order, lifecycle and the rest left out


def kept_tags(tags: Sequence[Any], order_ids: set[str], computed_at: datetime
              ) -> KeptTags | None:
    """What the tag rebuild keeps of one member's freshly built derived tags (persona Tags).

    None (nothing kept: the reader then goes the `tag` table's way) for a persona without
    the lifecycle tag, whose row is what marks stored tags as present, or with a code or
    label holding the separators the kept row uses."""
    if not any(t.kind == "lifecycle" for t in tags):
        return None
    out = []
    for t in tags:
        if t.kind not in TAG_KINDS_READ:
            continue
        if any(sep in s for s in (t.kind, t.code, t.label) for sep in _KEPT_SEPARATORS):
            return None
        motivation = t.kind == "motivation"
        intent = t.kind == "intent"
        out.append(KeptTag(
            t.kind, t.code, t.label, float(t.score),
            _us(t.expires_at) if intent and t.expires_at is not None else None,
            sum(1 for e in t.evidence if e not in order_ids) if motivation else 0,
            len(t.evidence) if motivation else 0,
            tuple(t.evidence) if intent else ()))
    return KeptTags(_us(computed_at), tuple(out))


# What `storage.segment_kept` joins a kept row's texts with (unit and record separators).
_KEPT_SEPARATORS = ("\x1f", "\x1e")
