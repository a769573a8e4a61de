"""The tables. Everything a persona is built from, and the persona's derived tags.

Design choices worth knowing:
- Timestamps are stored in UTC and always come back timezone-aware (`UTCDateTime`), on SQLite
  as well as PostgreSQL; the community's time zone is applied only when judging time of day.
- A member has one stable public id (`member_id`, the first platform id seen) and any number of
  platform identities, so one person across WeChat and WeCom stays one persona.
- Each message keeps its per-message signals (JSON) next to the text: personas are aggregated
  from signals, so raw text can be purged later while the evidence ids stay valid.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# The meta row's schema_version, which releases before Alembic (up to 13a4b61) check and
# refuse anything but 1 with. The schema's own version is its Alembic revision
# (storage/migrations/); a revision that such a release would misread raises this with it.
SCHEMA_VERSION = 1


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; times must be aware")
        value = value.astimezone(UTC)
        # SQLite has no time zone type: store naive UTC so text comparison stays ordered.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _dt(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), **kw))


class Meta(SQLModel, table=True):
    """Key/value facts about the database itself, such as `SCHEMA_VERSION`."""

    key: str = Field(primary_key=True)
    value: str


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(unique=True, index=True)
    name: str = ""
    first_seen: datetime | None = _dt()
    last_active: datetime | None = _dt()
    opted_out: bool = False
    # Set in the same transaction that adds a member's messages, orders or events; consumed
    # by a tag rebuild's claim (TagClaim): a crash between the two is healed by the next run.
    tags_stale: bool = False


class Identity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "platform_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_pk: int = Field(foreign_key="member.id", index=True)
    platform: str
    platform_id: str


class Chat(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str | None = None
    is_group: bool = False
    platform: str = "wechat"


class Message(SQLModel, table=True):
    __table_args__ = (Index("ix_message_member_ts", "member_pk", "ts"),)

    id: str = Field(primary_key=True)
    # Not indexed: no query selects messages by chat (per-chat counts group the member
    # index), and an index kept in chat order cost every import a seventh of its insert time.
    # Databases made before had ix_message_chat_id; upgrading them drops it (migrations).
    chat_id: str
    member_pk: int = Field(foreign_key="member.id")
    ts: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    type: str
    text: str | None = None
    signals: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    origin: str = ""


class Tag(SQLModel, table=True):
    """A persona tag: derived ones are rebuilt after each ingest, manual ones by operators."""

    __table_args__ = (UniqueConstraint("member_pk", "code", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    member_pk: int = Field(foreign_key="member.id", index=True)
    code: str
    kind: str
    label: str
    score: float
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    expires_at: datetime | None = _dt()
    source: str = "derived"
    computed_at: datetime | None = _dt()


class TagClaim(SQLModel, table=True):
    """A member whose stale flag a tag rebuild has consumed and whose tags it owes.

    The rebuild first moves `member.tags_stale` into this table (one transaction), then reads
    the member's data, then writes the tags and drops the claim (another transaction). A writer
    that stores new data in between sets the flag again, and it stays set: the rebuild only
    clears what it read. A rebuild that dies leaves its claims, and the next one takes them.
    Added in schema version 1 as a new table, so existing databases get it on open.
    """

    __tablename__ = "tag_claim"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
