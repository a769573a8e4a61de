"""What the tag rebuild keeps for segmentation, and the layout segmentation reads it in.

Counting each member's keywords, message aggregates and derived tags from the message and tag
tables is a pass over every row (about a minute at a million members). The tag rebuild has
those numbers at hand anyway, so it stores them per member (tables `member_keywords`,
`member_activity`, `member_tags` in storage/models.py) and segmentation reads one row per
member instead (storage/segment_inputs.py, storage/segment_tags.py) whenever the row still
stands for the run.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection, Engine

from persona.kept import KeptActivity, KeptKeywords, KeptTags
from storage.db import writing
from storage.models import ACTIVITY, KEYWORDS, TAGS

# Keywords are stored joined by the unit separator: splitting beats parsing JSON a million times.
_SEP = "\x1f"
# member_activity.recent: each kept time as this many zero-padded decimal digits, newest
# first, no separator (16 digits of microseconds last until the year 2286)
_STAMP = 16
# "no time" where SQL hands numbers to numpy (far outside any real time)
_NO_US = -(2**62)


# Words kept per member: what persona cards read (their needs and pain points look at a
# member's top 30); circles use the first POPULATION_KEYWORDS of them.
KEPT_KEYWORDS = 30


def keep_keywords(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Replace these members' kept keywords (dicts of member_pk, through_us, messages, words)."""
    if not rows:
        return
    with writing(engine) as conn:
        conn.execute(delete(KEYWORDS).where(
            KEYWORDS.c.member_pk.in_([r["member_pk"] for r in rows])))
        conn.execute(insert(KEYWORDS), list(rows))


def keep_member_keywords(engine: Engine, kept: Mapping[int, KeptKeywords]) -> None:
    """Store top keywords a tag rebuild counted from the history it had loaded anyway, so the
    first segmentation after an import does not count them again (a minute at 1M members)."""
    keep_keywords(engine, [{"member_pk": pk, "through_us": k.through_us,
                            "messages": k.messages, "words": _SEP.join(k.words)}
                           for pk, k in kept.items()])


def recent_text(stamps: Sequence[int]) -> str:
    """member_activity.recent for these microsecond times (non-negative, newest first)."""
    return "".join(f"{us:0{_STAMP}d}" for us in stamps)


def keep_member_activity(engine: Engine, kept: Mapping[int, KeptActivity]) -> None:
    """Replace these members' activity rows with what a tag rebuild counted."""
    if not kept:
        return
    rows = [{"member_pk": pk, "computed_us": a.computed_us, "messages": a.messages,
             "first_us": a.first_us, "last_us": a.last_us, "joined_us": a.joined_us,
             "recent": recent_text(a.recent_us)}
            for pk, a in kept.items()]
    with writing(engine) as conn:
        conn.execute(delete(ACTIVITY).where(ACTIVITY.c.member_pk.in_(list(kept))))
        conn.execute(insert(ACTIVITY), rows)


_TAG_RECORD = np.dtype([("score", "<f8"), ("expires", "<i8"), ("chat", "<i8"), ("len", "<i8")])


def tags_row(pk: int, kept: KeptTags) -> dict[str, Any]:
    """The member_tags row for one member's kept tags."""
    rec = np.zeros(len(kept.tags), dtype=_TAG_RECORD)
    rec["score"] = [t.score for t in kept.tags]
    rec["expires"] = [_NO_US if t.expires_us is None else t.expires_us for t in kept.tags]
    rec["chat"] = [t.chat_evidence for t in kept.tags]
    rec["len"] = [t.evidence_len for t in kept.tags]
    intents = [list(t.evidence) for t in kept.tags if t.kind == "intent"]
    return {"member_pk": pk, "computed_us": kept.computed_us,
            "keys": "\x1e".join(f"{t.kind}\x1f{t.code}\x1f{t.label}" for t in kept.tags),
            "numbers": rec.tobytes(),
            "intents": json.dumps(intents, ensure_ascii=False) if intents else ""}


def intent_evidence(texts: Iterator[str] | Sequence[str], tags: np.ndarray
                    ) -> list[list[str]] | None:
    """The evidence lists of several members' `member_tags.intents` (each a non-empty JSON
    list of lists, one per intent tag), flattened in order, from one `json.loads` over the
    texts joined into one array: at a million members that was 400k calls, ≈ 2 s.

    `tags` is each text's number of intent tags. None when a text does not hold exactly
    that many lists (never so for rows `tags_row` wrote); the caller then decodes row by
    row, which keeps the per-row behaviour for whatever such a row holds."""
    decoded = json.loads("[" + ",".join(texts) + "]")
    if len(decoded) != len(tags) or not np.array_equal(
            np.fromiter(map(len, decoded), dtype=np.int64, count=len(decoded)), tags):
        return None
    return list(itertools.chain.from_iterable(decoded))


def replace_member_tags(conn: Connection, pks: Sequence[int],
                        kept: Mapping[int, KeptTags]) -> None:
    """Inside a tag write's transaction: drop these members' kept tags and store `kept`.

    Every member whose derived tags are replaced loses its old row, kept anew or not, so a
    row never outlives the tags it was packed from."""
    for start in range(0, len(pks), 500):
        conn.execute(delete(TAGS).where(TAGS.c.member_pk.in_(list(pks[start : start + 500]))))
    rows = [tags_row(pk, k) for pk, k in kept.items()]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(TAGS), rows[start : start + 5000])
