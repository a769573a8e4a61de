"""Members' persona tags: the rebuild's claims, swapping in freshly derived tags, reading them.

Derived tags are rebuilt from a member's messages, orders and events after every write that
sets the member's `tags_stale` flag (handlers/personas.py); manual ones are an operator's
(storage/privacy.py: `set_manual_tag`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from persona.kept import KeptTags
from storage import driver
from storage.db import writing
from storage.driver import Query, chunks
from storage.members import lock_members
from storage.models import CLAIM, MEMBER, TAG
from storage.segment_kept import replace_member_tags


class TagRow(NamedTuple):
    code: str
    kind: str
    label: str
    score: float
    evidence: list[str]
    expires_at: datetime | None


class TagStore:
    """`Store`'s tag writes and reads (storage/repo.py)."""

    engine: Engine

    def replace_derived_tags(self, tags: dict[int, list[TagRow]], computed_at: datetime,
                             kept: Mapping[int, KeptTags] | None = None) -> None:
        """Swap the derived tags of these members for freshly computed ones, atomically.

        Drops the members' claims (see `stale_members`) in the same transaction; their
        `tags_stale` flags are left alone, because a flag set now was set by a writer after
        the data these tags were computed from had been read. The members' rows of
        `member_tags` (segmentation's packed copy of these tags) are replaced by `kept` in
        the same transaction too, so a packed row always matches the tags beside it.
        """
        if not tags:
            return
        with writing(self.engine) as conn:
            pks = sorted(tags)
            lock_members(conn, pks)
            replace_member_tags(conn, pks, kept or {})
            for part in chunks(pks):
                conn.execute(delete(TAG).where(TAG.c.member_pk.in_(part),
                                               TAG.c.source == "derived"))
            rows = [{"member_pk": pk, "code": t.code, "kind": t.kind, "label": t.label,
                     "score": t.score, "evidence": t.evidence, "expires_at": t.expires_at,
                     "source": "derived", "computed_at": computed_at}
                    for pk in pks for t in tags[pk]]
            if rows:
                driver.write_many(conn, _TagQ.insert_tag, rows)
            for part in chunks(pks):
                conn.execute(delete(CLAIM).where(CLAIM.c.member_pk.in_(part)))

    def stale_members(self) -> list[int]:
        """Claim every member whose derived tags need a rebuild; their pks in order.

        Clearing the flag only after the rebuild (as this once did) lost updates: a batch
        stored while the rebuild was reading set a flag that was already set, and the rebuild
        then cleared it although it had never seen that batch. So the flags are consumed here,
        up front, into `tag_claim` rows in one transaction; the caller reads the members'
        data afterwards and `replace_derived_tags` drops the claims. Members claimed by a
        rebuild that died are claimed again (returned too), so nothing is ever lost.
        """
        with writing(self.engine) as conn:
            waiting = or_(MEMBER.c.tags_stale.is_(True),
                          MEMBER.c.id.in_(select(CLAIM.c.member_pk)))
            pks = list(conn.scalars(select(MEMBER.c.id).where(waiting).order_by(MEMBER.c.id)))
            if not pks:
                return pks
            lock_members(conn, pks)
            # Another rebuild may hold some of these claims already: keep one row each.
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            claim = dialect.insert(CLAIM).on_conflict_do_nothing(index_elements=["member_pk"])
            for part in chunks(pks):
                conn.execute(claim, [{"member_pk": pk} for pk in part])
                conn.execute(update(MEMBER).where(MEMBER.c.id.in_(part),
                                                  MEMBER.c.tags_stale.is_(True))
                             .values(tags_stale=False))
            return pks

    def tags_for(self, pks: Iterable[int], source: str) -> dict[int, list[TagRow]]:
        out: dict[int, list[TagRow]] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(pks))):
                for pk, *rest in driver.rows(conn, _TagQ.tags, {"pks": list(part),
                                                             "source": source}):
                    out.setdefault(pk, []).append(TagRow(*rest))
        return out


class _TagQ:
    """Tag statements built once (see storage/driver.py)."""

    tags = Query(select(TAG.c.member_pk, TAG.c.code, TAG.c.kind, TAG.c.label, TAG.c.score,
                        TAG.c.evidence, TAG.c.expires_at)
                 .where(TAG.c.member_pk.in_(bindparam("pks", expanding=True)),
                        TAG.c.source == bindparam("source"))
                 .order_by(TAG.c.member_pk, TAG.c.score.desc(), TAG.c.code))
    insert_tag = Query(insert(TAG))
