"""Every table of the database, in one place: what is stored, and why it is shaped so.

Each feature's repository (storage/messages.py, business.py, suggestions.py, …) reads and
writes its tables through the `Table` constants at the end; nothing else declares a table.

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

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    text,
)
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


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


# The tables are declared in the order their modules used to register them, so a new
# database is created statement for statement as before (sqlite_master included).


# ---- chat: members, their identities, chats, messages, tags --------------------------------
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
    # "owner" / "admin" when a chat export says so (ChatLab member roles): one of our own
    # staff, never profiled, scripted or counted (handlers/staff.py). Revision 0003.
    staff_role: str | None = None


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
    """One chat message. Its identity is (chat, platform message id): many exports number
    their messages per chat, so "5" in two chats is two messages (issue 16; revision 0004).

    The key is (id, chat_id), id first: evidence, suggestions and the live hook look messages
    up by id, and the key's index serves those reads as the old key on id alone did.
    """

    __table_args__ = (Index("ix_message_member_ts", "member_pk", "ts"),)

    id: str = Field(primary_key=True)
    # Not indexed on its own: no query selects messages by chat (per-chat counts group the
    # member index), and an index kept in chat order cost every import a seventh of its
    # insert time. Databases made before had ix_message_chat_id; upgrading them drops it.
    chat_id: str = Field(primary_key=True)
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


# ---- the command audit log (storage/audit.py) ----------------------------------------------
class AuditLog(SQLModel, table=True):
    """Who looked at whose persona, and who was refused: the command audit log."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str
    command: str
    target: str = ""
    allowed: bool = True


# ---- what the tag rebuild keeps for segmentation (storage/segment_kept.py) -----------------
class MemberKeywords(SQLModel, table=True):
    """Each member's top keywords, kept between segmentation runs.

    Counting keywords means expanding every message's keyword list (json_each), a minute for
    a million members; a member's top words only change when their messages do. A row holds
    for a run when its (newest chat message time, chat message count) equals the member's as
    of the run: messages are only ever added (erasure removes the member and this row with
    them), so equal counts up to an equal newest time mean the very same messages.

    The tag rebuild after every import (`handlers.personas.refresh_stale_tags`) writes the
    rows of the members it rebuilt from the history it loads anyway, so the first run after
    an import finds them current; a run counts in SQL only what is still missing or stale.
    """

    __tablename__ = "member_keywords"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    # newest chat message counted, microseconds since the epoch (64-bit: revision 0006)
    through_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    messages: int  # chat messages counted
    words: str = Field(default="", sa_column=Column(Text, nullable=False))


class MemberActivity(SQLModel, table=True):
    """Each member's message aggregates, kept by the tag rebuild (`persona.kept.
    KeptActivity`): count, first and last chat message, first join notice, and the newest
    RECENT_KEPT chat message times (microseconds, each 16 zero-padded digits, newest first:
    compared as fixed-width text in one numpy pass) to count "recent" for any later as_of.

    Counting them from the message table is one pass over every message (25 s at a million
    members and 17M messages). A row stands for a run when its member's stored tags do and
    were computed by the same rebuild (`computed_us` equals the tags' computed_at); anything
    else (no row, a crash between the tags and this row, a claimed or stale member) is
    counted in SQL as before. Added in schema version 1 as a new table, so existing databases
    get it on open and fill it as members are rebuilt.
    """

    __tablename__ = "member_activity"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    # the rebuild's as_of (the tags' computed_at), microseconds (64-bit: revision 0006)
    computed_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    messages: int
    first_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    joined_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    recent: str = Field(default="", sa_column=Column(Text, nullable=False))


class MemberTags(SQLModel, table=True):
    """Each member's derived tags in the shape segmentation reads them (`persona.kept.
    KeptTags`), one row per member, written by `Store.replace_derived_tags` in the very
    transaction that replaces the member's rows in `tag`, so the two never disagree.

    Reading the tag table itself is a scan of every tag row (5.9M at a million members, with
    a JSON expansion and an orders lookup per motivation tag): about 25 s. These rows are
    read in bulk instead, the numbers of all members joined into one buffer numpy reads in
    one step. A row stands for a run when its member is neither stale nor claimed by a
    running rebuild and was computed no later than the run's as_of; every other member (no
    row yet: a database from before this table, or a tag write that kept none) is read from
    the tag table as before. Added in schema version 1 as a new table, so existing databases
    get it on open and fill it as members are rebuilt.

    `keys`: each tag's kind, code and label joined by \\x1f, the tags joined by \\x1e (text,
    so erasure's scrub of other members' text reaches it exactly as it reaches tag.label).
    `numbers`: per tag, in the same order, `_TAG_RECORD` (score, intent expiry in
    microseconds or `_NO_US`, motivation chat-evidence count and evidence count).
    `intents`: the intent tags' evidence, a JSON list of lists in tag order ('' if none).
    """

    __tablename__ = "member_tags"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    # the tags' computed_at, microseconds since the epoch (64-bit: revision 0006)
    computed_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    keys: str = Field(default="", sa_column=Column(Text, nullable=False))
    numbers: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    intents: str = Field(default="", sa_column=Column(Text, nullable=False))


# ---- business data beside the chat (storage/business.py) -----------------------------------
class Order(SQLModel, table=True):
    """One order from the shop's export. Amount in yuan (fen precision), time aware UTC."""

    __tablename__ = "orders"  # "order" is an SQL keyword
    __table_args__ = (Index("ix_orders_member_ts", "member_pk", "ts"),)

    order_id: str = Field(primary_key=True)
    member_pk: int = Field(foreign_key="member.id")
    ts: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    amount: float
    category: str | None = None
    coupon_used: bool = False
    # Where the order was first imported from ("orders.csv:12"), for the operator.
    origin: str = ""


class ContentEvent(SQLModel, table=True):
    """One content interaction; the key is the member plus a hash of the event's fields."""

    __tablename__ = "content_event"
    __table_args__ = (Index("ix_content_event_member_ts", "member_pk", "ts"),)

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    event_id: str = Field(primary_key=True)
    ts: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    content_type: str
    action: str
    duration: float | None = None
    origin: str = ""


class ExternalLink(SQLModel, table=True):
    """An outside identifier (shop customer id, phone number) that names one member."""

    __tablename__ = "external_link"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # one of LINK_KINDS
    value: str  # phone numbers normalised to digits by the importer
    member_pk: int = Field(foreign_key="member.id", index=True)
    origin: str = ""


# ---- consent notices sent (storage/notices.py) ---------------------------------------------
class ConsentNotice(SQLModel, table=True):
    """Which newcomers already received the consent notice, so it is sent exactly once."""

    __tablename__ = "consent_notice"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    sent_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# ---- segmentation runs (storage/segments.py) -----------------------------------------------
class SegmentRun(SQLModel, table=True):
    __tablename__ = "segment_run"

    id: int | None = Field(default=None, primary_key=True)
    as_of: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MemberSegment(SQLModel, table=True):
    __tablename__ = "member_segment"

    run_id: int = Field(foreign_key="segment_run.id", primary_key=True)
    member_pk: int = Field(foreign_key="member.id", primary_key=True, index=True)
    value: str | None = None
    lifecycle: str | None = None
    motivation: str | None = None
    layer: str | None = None
    cluster: str | None = None


# ---- suggestions and invites (storage/suggestions.py) --------------------------------------
# Predicates of the partial indexes, as SQL both SQLite and PostgreSQL read the same way.
_ONE_OPEN = "status = 'pending' AND scenario <> 'invite'"
_QUEUED = "status = 'pending' AND notified_at IS NULL AND source = 'hook'"


class Suggestion(SQLModel, table=True):
    """A reply script or invite drafted for the operator, and what became of it."""

    __table_args__ = (
        UniqueConstraint("member_pk", "scenario", "trigger"),
        Index("ix_suggestion_open", "member_pk", "scenario", "status"),
        Index("ix_suggestion_notify", "operator", "notified_at"),
        # One pending draft per member and scenario, held by the database: two bot processes
        # drafting for the same member at once cannot both insert one (invites are one per
        # activity instead, which the unique trigger key already holds).
        Index("ux_suggestion_one_open", "member_pk", "scenario", unique=True,
              sqlite_where=text(_ONE_OPEN), postgresql_where=text(_ONE_OPEN)),
        # The push queue (pending hook rows not yet handed out), per operator, by trigger
        # time: the live hook reads its head on every message, so it must not scan the table.
        Index("ix_suggestion_queue", "operator", "trigger_ts",
              sqlite_where=text(_QUEUED), postgresql_where=text(_QUEUED)),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Erasing a member (siyu forget) erases what was drafted for them.
    member_pk: int = Field(sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"),
                                            nullable=False, index=True))
    scenario: str
    trigger: str
    trigger_ts: datetime = _dt(nullable=False)
    message_id: str | None = None
    chat_id: str | None = None
    activity: str | None = None
    segment: str | None = None
    operator: str = "operator"
    # How it was made: "hook" (pushed to the operator, rate limited), "demand" (the operator
    # asked: `siyu suggest`), "invite" (`siyu invite`). Only hook rows wait in the push queue.
    source: str = "hook"
    variant: str = "default"
    template_text: str = ""
    text: str = ""
    alternatives: list[str] = _json(list)
    why: list[str] = _json(list)
    reasons: list[dict[str, Any]] = _json(list)
    segments: dict[str, Any] = _json(dict)
    next_action: str = "private_chat"
    polished: bool = False
    status: str = "pending"
    # What the operator really sent, when they edited the script first.
    final_text: str | None = None
    created_at: datetime = _dt(nullable=False)
    updated_at: datetime = _dt(nullable=False)
    notified_at: datetime | None = _dt()
    status_at: datetime | None = _dt()


class SuggestState(SQLModel, table=True):
    """Small facts of the trigger loop: the message watermark and the last run."""

    __tablename__ = "suggest_state"

    key: str = Field(primary_key=True)
    value: str


class NotifyLog(SQLModel, table=True):
    """Every push of a suggestion to an operator. The hourly cap counts these, not the
    suggestions' `notified_at`, which a newer trigger resets when it re-queues a row."""

    __tablename__ = "notify_log"
    __table_args__ = (Index("ix_notify_log_operator_at", "operator", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    member_pk: int = Field(sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"),
                                            nullable=False, index=True))
    operator: str
    at: datetime = _dt(nullable=False)


class MemberName(SQLModel, table=True):
    """Every name a member is known by besides `member.name`: the account name, group
    nicknames and aliases of a chat export. Operators type any of them (`siyu link`, an
    orders file's member column, the console bot), so each must find her. Revision 0003."""

    __tablename__ = "member_name"
    __table_args__ = (UniqueConstraint("member_pk", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    member_pk: int = Field(foreign_key="member.id", index=True)
    name: str = Field(index=True)


# ---- erasure that sticks (storage/suppression.py) ------------------------------------------
class Suppression(SQLModel, table=True):
    """A platform id whose owner asked to be forgotten, as a keyed hash: imports and the
    live bot skip anyone whose id hashes to a row here, until they opt back in.

    Only the HMAC-SHA256 of "platform\x1fplatform id", under a random key this database
    keeps in `meta` (row `suppression_key`), is stored: nothing here can be read back as a
    name or an id, and the hashes of two databases cannot be matched against each other.
    Added by revision 0002.
    """

    __tablename__ = "suppression"

    hash: str = Field(primary_key=True)


# ---- interest words learned from the community (storage/learned.py) ------------------------
class LearnedInterest(SQLModel, table=True):
    """One interest word learned from the community itself (persona/learned.py), with its
    evidence: how many messages and members, the known words or category it came from, and
    the ids of a quote or two (never the text: a forgotten member's message goes, and with it
    the quote). The whole set is replaced by each learning; `meta` row `learned_as_of` says as
    of when. Added by revision 0004."""

    __tablename__ = "learned_interest"

    word: str = Field(primary_key=True)
    code: str
    source: str
    basis: list[str] = _json(list)
    messages: int
    members: int
    support: int
    score: float
    quotes: list[str] = _json(list)


# The tables as SQLAlchemy Core sees them: the repositories build their statements from these.
MEMBER: Table = Member.__table__  # type: ignore[assignment]
IDENTITY: Table = Identity.__table__  # type: ignore[assignment]
CHAT: Table = Chat.__table__  # type: ignore[assignment]
MESSAGE: Table = Message.__table__  # type: ignore[assignment]
TAG: Table = Tag.__table__  # type: ignore[assignment]
CLAIM: Table = TagClaim.__table__  # type: ignore[assignment]
ORDER: Table = Order.__table__  # type: ignore[assignment]
EVENT: Table = ContentEvent.__table__  # type: ignore[assignment]
LINK: Table = ExternalLink.__table__  # type: ignore[assignment]
RUN: Table = SegmentRun.__table__  # type: ignore[assignment]
MEMBER_SEGMENT: Table = MemberSegment.__table__  # type: ignore[assignment]
KEYWORDS: Table = MemberKeywords.__table__  # type: ignore[assignment]
ACTIVITY: Table = MemberActivity.__table__  # type: ignore[assignment]
TAGS: Table = MemberTags.__table__  # type: ignore[assignment]
SUGGESTION: Table = Suggestion.__table__  # type: ignore[assignment]
STATE: Table = SuggestState.__table__  # type: ignore[assignment]
NOTIFY_LOG: Table = NotifyLog.__table__  # type: ignore[assignment]
AUDIT: Table = AuditLog.__table__  # type: ignore[assignment]
NOTICE: Table = ConsentNotice.__table__  # type: ignore[assignment]
MEMBER_NAME: Table = MemberName.__table__  # type: ignore[assignment]
SUPPRESSION: Table = Suppression.__table__  # type: ignore[assignment]
LEARNED: Table = LearnedInterest.__table__  # type: ignore[assignment]
