"""Repositories: the only place that builds queries.

Handlers hand this module plain rows and get plain rows back; they never see a session.
Writes go in batches, one transaction each, through SQLAlchemy Core (`executemany`) rather than
one ORM object per row: an import of a year of group history is hundreds of thousands of rows,
and a batch either lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    String,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, Engine

from storage.models import Chat, Identity, Member, Message, Tag

MEMBER: Table = Member.__table__  # type: ignore[assignment]
IDENTITY: Table = Identity.__table__  # type: ignore[assignment]
CHAT: Table = Chat.__table__  # type: ignore[assignment]
MESSAGE: Table = Message.__table__  # type: ignore[assignment]
TAG: Table = Tag.__table__  # type: ignore[assignment]

# SQLite allows 32766 bound variables; stay far below for IN (...) lists.
_CHUNK = 500


def _chunks(seq: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


class MemberRow(NamedTuple):
    pk: int
    member_id: str
    name: str
    first_seen: datetime | None
    last_active: datetime | None
    opted_out: bool


class StoredMessage(NamedTuple):
    id: str
    member_pk: int
    ts: datetime
    chat_id: str
    type: str
    text: str | None
    signals: dict[str, Any]


class TagRow(NamedTuple):
    code: str
    kind: str
    label: str
    score: float
    evidence: list[str]
    expires_at: datetime | None


@dataclass(slots=True)
class NewMessage:
    id: str
    chat_id: str
    platform: str
    sender: str
    ts: datetime
    type: str
    text: str | None
    signals: dict[str, Any]
    origin: str


@dataclass(slots=True)
class Batch:
    """What one ingest transaction writes."""

    chats: dict[str, tuple[str | None, bool, str]] = field(default_factory=dict)
    # (platform, platform_id) -> display name
    people: dict[tuple[str, str], str] = field(default_factory=dict)
    messages: list[NewMessage] = field(default_factory=list)


@dataclass(slots=True)
class BatchResult:
    new: int = 0
    duplicate: int = 0
    opted_out: int = 0
    new_members: int = 0
    touched_members: set[int] = field(default_factory=set)


def ensure_members(conn: Connection, people: dict[tuple[str, str], str]
                   ) -> tuple[dict[tuple[str, str], int], set[int]]:
    """Member pks for (platform, platform_id) keys, creating members and identities as needed."""
    keys = list(people)
    pks: dict[tuple[str, str], int] = {}
    for part in _chunks(keys):
        q = select(IDENTITY.c.platform, IDENTITY.c.platform_id, IDENTITY.c.member_pk).where(
            tuple_(IDENTITY.c.platform, IDENTITY.c.platform_id).in_(part))
        for platform, pid, pk in conn.execute(q):
            pks[platform, pid] = pk
    created: set[int] = set()
    for key in keys:
        if key in pks:
            continue
        platform, pid = key
        # The public member id is the platform id; another platform's person with the same
        # id string gets a qualified one, so ids never collide.
        member_id = pid
        taken = conn.scalar(select(func.count()).select_from(MEMBER)
                            .where(MEMBER.c.member_id == member_id))
        if taken:
            member_id = f"{platform}:{pid}"
        pk = conn.execute(insert(MEMBER).values(member_id=member_id, name=people[key] or pid,
                                                opted_out=False)).inserted_primary_key[0]
        conn.execute(insert(IDENTITY).values(member_pk=pk, platform=platform,
                                             platform_id=pid))
        pks[key] = pk
        created.add(pk)
    return pks, created


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ---- writing -------------------------------------------------------------------------
    def write_batch(self, batch: Batch) -> BatchResult:
        """Write chats, members and new messages in one transaction; duplicates are skipped.

        Opted-out members' messages are dropped here, before anything is stored.
        """
        result = BatchResult()
        with self.engine.begin() as conn:
            self._ensure_chats(conn, batch.chats)
            pks, created = ensure_members(conn, batch.people)
            result.new_members = len(created)
            opted = self._opted_out(conn, set(pks.values()))

            # Dedupe inside the batch first (an export can repeat a message), then against the DB.
            unique: dict[str, NewMessage] = {}
            for m in batch.messages:
                if m.id in unique:
                    result.duplicate += 1
                else:
                    unique[m.id] = m
            existing = self._existing_message_ids(conn, list(unique))
            rows: list[dict[str, Any]] = []
            spans: dict[int, list[datetime]] = {}
            for m in unique.values():
                if m.id in existing:
                    result.duplicate += 1
                    continue
                pk = pks[m.platform, m.sender]
                if pk in opted:
                    result.opted_out += 1
                    continue
                rows.append({"id": m.id, "chat_id": m.chat_id, "member_pk": pk, "ts": m.ts,
                             "type": m.type, "text": m.text, "signals": m.signals,
                             "origin": m.origin})
                span = spans.get(pk)
                if span is None:
                    spans[pk] = [m.ts, m.ts]
                else:
                    span[0] = min(span[0], m.ts)
                    span[1] = max(span[1], m.ts)
            if rows:
                conn.execute(insert(MESSAGE), rows)
            result.new = len(rows)
            self._extend_spans(conn, spans)
            result.touched_members = set(spans) | created
            if result.touched_members:
                for part in _chunks(sorted(result.touched_members)):
                    conn.execute(update(MEMBER).where(MEMBER.c.id.in_(part))
                                 .values(tags_stale=True))
        return result

    def _ensure_chats(self, conn: Connection,
                      chats: dict[str, tuple[str | None, bool, str]]) -> None:
        if not chats:
            return
        ids = list(chats)
        have: set[str] = set()
        for part in _chunks(ids):
            have.update(conn.scalars(select(CHAT.c.id).where(CHAT.c.id.in_(part))))
        rows = [{"id": cid, "name": chats[cid][0], "is_group": chats[cid][1],
                 "platform": chats[cid][2]} for cid in ids if cid not in have]
        if rows:
            conn.execute(insert(CHAT), rows)

    def _opted_out(self, conn: Connection, pks: set[int]) -> set[int]:
        if not pks:
            return set()
        out: set[int] = set()
        for part in _chunks(sorted(pks)):
            out.update(conn.scalars(select(MEMBER.c.id).where(
                MEMBER.c.id.in_(part), MEMBER.c.opted_out.is_(True))))
        return out

    def _existing_message_ids(self, conn: Connection, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for part in _chunks(ids):
            found.update(conn.scalars(select(MESSAGE.c.id).where(MESSAGE.c.id.in_(part))))
        return found

    def _extend_spans(self, conn: Connection, spans: dict[int, list[datetime]]) -> None:
        if not spans:
            return
        current: dict[int, tuple[datetime | None, datetime | None]] = {}
        for part in _chunks(sorted(spans)):
            q = select(MEMBER.c.id, MEMBER.c.first_seen, MEMBER.c.last_active).where(
                MEMBER.c.id.in_(part))
            for pk, first, last in conn.execute(q):
                current[pk] = (first, last)
        updates = []
        for pk, (lo, hi) in spans.items():
            first, last = current.get(pk, (None, None))
            updates.append({"pk": pk, "first": min(lo, first) if first else lo,
                            "last": max(hi, last) if last else hi})
        conn.execute(update(MEMBER).where(MEMBER.c.id == bindparam("pk"))
                     .values(first_seen=bindparam("first"), last_active=bindparam("last")),
                     updates)

    def replace_derived_tags(self, tags: dict[int, list[TagRow]], computed_at: datetime) -> None:
        """Swap the derived tags of these members for freshly computed ones, atomically."""
        if not tags:
            return
        with self.engine.begin() as conn:
            pks = sorted(tags)
            for part in _chunks(pks):
                conn.execute(delete(TAG).where(TAG.c.member_pk.in_(part),
                                               TAG.c.source == "derived"))
            rows = [{"member_pk": pk, "code": t.code, "kind": t.kind, "label": t.label,
                     "score": t.score, "evidence": t.evidence, "expires_at": t.expires_at,
                     "source": "derived", "computed_at": computed_at}
                    for pk in pks for t in tags[pk]]
            if rows:
                conn.execute(insert(TAG), rows)
            for part in _chunks(pks):
                conn.execute(update(MEMBER).where(MEMBER.c.id.in_(part))
                             .values(tags_stale=False))

    def stale_members(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(MEMBER.c.id).where(MEMBER.c.tags_stale.is_(True))
                                     .order_by(MEMBER.c.id)))

    # ---- reading -------------------------------------------------------------------------
    def members(self, pks: Iterable[int] | None = None) -> list[MemberRow]:
        q = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                   MEMBER.c.last_active, MEMBER.c.opted_out).order_by(MEMBER.c.id)
        with self.engine.connect() as conn:
            if pks is None:
                return [MemberRow(*r) for r in conn.execute(q)]
            out: list[MemberRow] = []
            for part in _chunks(sorted(set(pks))):
                out.extend(MemberRow(*r) for r in conn.execute(q.where(MEMBER.c.id.in_(part))))
            return out

    def find_members(self, query: str) -> list[MemberRow]:
        """Resolve what an operator typed: member id, any platform id, or a name."""
        base = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                      MEMBER.c.last_active, MEMBER.c.opted_out)
        with self.engine.connect() as conn:
            exact = base.where(or_(
                MEMBER.c.member_id == query,
                MEMBER.c.id.in_(select(IDENTITY.c.member_pk)
                                .where(IDENTITY.c.platform_id == query))))
            rows = [MemberRow(*r) for r in conn.execute(exact)]
            if not rows:
                rows = [MemberRow(*r) for r in conn.execute(base.where(MEMBER.c.name == query))]
            if not rows:
                like = base.where(MEMBER.c.name.contains(query, autoescape=True))
                rows = [MemberRow(*r) for r in conn.execute(like.order_by(MEMBER.c.id))]
            return rows

    def member_by_platform_id(self, platform_id: str) -> MemberRow | None:
        """Exact lookup of who sent something: by member id or platform id, never by name."""
        q = select(MEMBER.c.id, MEMBER.c.member_id, MEMBER.c.name, MEMBER.c.first_seen,
                   MEMBER.c.last_active, MEMBER.c.opted_out).where(or_(
                       MEMBER.c.member_id == platform_id,
                       MEMBER.c.id.in_(select(IDENTITY.c.member_pk)
                                       .where(IDENTITY.c.platform_id == platform_id))))
        with self.engine.connect() as conn:
            row = conn.execute(q.order_by(MEMBER.c.id)).first()
        return MemberRow(*row) if row else None

    def messages_for(self, pks: Iterable[int] | None = None, until: datetime | None = None
                     ) -> dict[int, list[StoredMessage]]:
        """Stored messages grouped by member (all members when `pks` is None)."""
        cols = (MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
                MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals)
        out: dict[int, list[StoredMessage]] = {}
        with self.engine.connect() as conn:
            queries = []
            if pks is None:
                queries.append(select(*cols))
            else:
                queries.extend(select(*cols).where(MESSAGE.c.member_pk.in_(part))
                               for part in _chunks(sorted(set(pks))))
            for q in queries:
                if until is not None:
                    q = q.where(MESSAGE.c.ts <= until)
                for row in conn.execute(q):
                    msg = StoredMessage(*row)
                    out.setdefault(msg.member_pk, []).append(msg)
        return out

    def messages_by_id(self, ids: Iterable[str]) -> dict[str, StoredMessage]:
        cols = (MESSAGE.c.id, MESSAGE.c.member_pk, MESSAGE.c.ts, MESSAGE.c.chat_id,
                MESSAGE.c.type, MESSAGE.c.text, MESSAGE.c.signals)
        out: dict[str, StoredMessage] = {}
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(ids))):
                for row in conn.execute(select(*cols).where(MESSAGE.c.id.in_(part))):
                    out[row[0]] = StoredMessage(*row)
        return out

    def tags_for(self, pks: Iterable[int], source: str) -> dict[int, list[TagRow]]:
        out: dict[int, list[TagRow]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(pks))):
                q = select(TAG.c.member_pk, TAG.c.code, TAG.c.kind, TAG.c.label, TAG.c.score,
                           TAG.c.evidence, TAG.c.expires_at).where(
                    TAG.c.member_pk.in_(part), TAG.c.source == source
                ).order_by(TAG.c.member_pk, TAG.c.score.desc(), TAG.c.code)
                for pk, *rest in conn.execute(q):
                    out.setdefault(pk, []).append(TagRow(*rest))
        return out

    def purge_text_before(self, cutoff: datetime) -> int:
        """Retention: drop the raw text of messages older than `cutoff`; signals stay."""
        with self.engine.begin() as conn:
            res = conn.execute(update(MESSAGE).where(MESSAGE.c.ts < cutoff,
                                                     MESSAGE.c.text.is_not(None))
                               .values(text=None))
            return res.rowcount or 0

    def latest_message_ts(self) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.max(MESSAGE.c.ts)))

    def chat_names(self) -> dict[str, str | None]:
        with self.engine.connect() as conn:
            return {cid: name for cid, name in conn.execute(select(CHAT.c.id, CHAT.c.name))}

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {name: conn.scalar(select(func.count()).select_from(t)) or 0
                    for name, t in (("members", MEMBER), ("messages", MESSAGE), ("chats", CHAT),
                                    ("tags", TAG))}


class PrivacyStore:
    """Opt-out, erasure and manual tags: the writes that members and operators ask for."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_member(self, platform: str, platform_id: str, name: str) -> int:
        """The member pk for a platform id, creating the member if this is their first word."""
        with self.engine.begin() as conn:
            pks, _created = ensure_members(conn, {(platform, platform_id): name})
            return pks[platform, platform_id]

    def set_opted_out(self, pk: int, opted_out: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(MEMBER).where(MEMBER.c.id == pk).values(opted_out=opted_out))

    def forget_member(self, pk: int) -> dict[str, int]:
        """Erase a member from every table, in one transaction; returns rows removed per table.

        Every table with a `member_pk` column loses the member's rows (features add tables
        without touching this code), then stored documents without a member column (segment
        runs: assignments, card quotes) are scrubbed of the member's id, name and message ids.
        """
        from sqlmodel import SQLModel

        removed: dict[str, int] = {}
        with self.engine.begin() as conn:
            row = conn.execute(select(MEMBER.c.member_id, MEMBER.c.name)
                               .where(MEMBER.c.id == pk)).first()
            if row is None:
                return removed
            member_id, name = row
            msg_ids = set(conn.scalars(select(MESSAGE.c.id).where(MESSAGE.c.member_pk == pk)))
            platform_ids = set(conn.scalars(select(IDENTITY.c.platform_id)
                                            .where(IDENTITY.c.member_pk == pk)))
            secrets = {member_id, name, *platform_ids} - {""}
            tables = SQLModel.metadata.sorted_tables
            for table in reversed(tables):
                if table.name == "member":
                    continue
                if "member_pk" in table.c:
                    res = conn.execute(delete(table).where(table.c.member_pk == pk))
                    removed[table.name] = res.rowcount or 0
            res = conn.execute(delete(MEMBER).where(MEMBER.c.id == pk))
            removed["member"] = res.rowcount or 0
            # Other members' words can name them ("@小确幸 收到～"): the name and ids are
            # replaced inside every text column of the rows that remain. A one-character
            # name is left alone: replacing it everywhere would rewrite unrelated words.
            for table in tables:
                for col in table.c:
                    if col.primary_key or not _is_text(col):
                        continue
                    for secret in sorted(s for s in secrets if len(s) >= 2):
                        n = _replace_in(conn, table, col, secret, "某成员")
                        if n:
                            removed[table.name] = removed.get(table.name, 0) + n
            # Tables without a member column can still name the member: a private chat keyed
            # by their id, an audit line, a card quoting them. Scrub those values too.
            for table in tables:
                if "member_pk" in table.c or table.name in ("member", "meta"):
                    continue
                key = next(iter(table.primary_key.columns))
                cols = [c for c in table.c if c is not key]
                for rec in conn.execute(select(key, *cols)).all():
                    if isinstance(rec[0], str) and rec[0] in secrets:
                        conn.execute(delete(table).where(key == rec[0]))
                        removed[table.name] = removed.get(table.name, 0) + 1
                        continue
                    changed = {c.name: _scrub(rec[i + 1], secrets, msg_ids)
                               for i, c in enumerate(cols)}
                    changed = {k: ("[已删除]" if v is None and rec[i + 1] is not None else v)
                               for i, (k, v) in enumerate(changed.items())}
                    if any(changed[c.name] != rec[i + 1] for i, c in enumerate(cols)):
                        conn.execute(update(table).where(key == rec[0]).values(**changed))
                        removed[table.name] = removed.get(table.name, 0) + 1
        return removed

    def set_manual_tag(self, pk: int, code: str, label: str, add: bool,
                       at: datetime | None = None) -> bool:
        """Add or remove an operator's manual tag; returns whether anything changed."""
        with self.engine.begin() as conn:
            exists = conn.scalar(select(TAG.c.id).where(
                TAG.c.member_pk == pk, TAG.c.code == code, TAG.c.source == "manual"))
            if add and not exists:
                conn.execute(insert(TAG).values(member_pk=pk, code=code, kind="manual",
                                                label=label, score=1.0, evidence=[],
                                                expires_at=None, source="manual",
                                                computed_at=at))
                return True
            if not add and exists:
                conn.execute(delete(TAG).where(TAG.c.id == exists))
                return True
            return False


def _is_text(col: Any) -> bool:
    kind = col.type
    # SQLModel's AutoString wraps String in a TypeDecorator; look through it.
    base = getattr(kind, "impl_instance", None) or getattr(kind, "impl", kind)
    return isinstance(kind, String | JSON) or isinstance(base, String | JSON)


def _replace_in(conn: Connection, table: Table, col: Any, secret: str, by: str) -> int:
    """Replace `secret` inside one text or JSON column, in SQL; returns rows changed."""
    target = cast(col, Text) if isinstance(col.type, JSON) else col
    replaced = func.replace(target, secret, by)
    if isinstance(col.type, JSON):
        replaced = cast(replaced, col.type)
    res = conn.execute(update(table).where(target.contains(secret, autoescape=True))
                       .values({col.name: replaced}))
    return res.rowcount or 0


def _scrub(value: Any, secrets: set[str], msg_ids: set[str]) -> Any:
    """A copy of a JSON value with everything pointing at one member removed."""
    if isinstance(value, dict):
        if any(isinstance(v, str) and (v in secrets or v in msg_ids) for k, v in value.items()
               if k in ("id", "member_id", "message_id", "name")):
            return None
        out = {k: _scrub(v, secrets, msg_ids) for k, v in value.items() if k not in secrets}
        return {k: v for k, v in out.items() if v is not None or value.get(k) is None}
    if isinstance(value, list):
        items = [_scrub(v, secrets, msg_ids) for v in value]
        return [v for v, orig in zip(items, value, strict=True) if v is not None or orig is None]
    if isinstance(value, str):
        if value in secrets or value in msg_ids:
            return None
        for secret in secrets:
            if len(secret) >= 2 and secret in value:
                value = value.replace(secret, "某成员")
        return value
    return value
