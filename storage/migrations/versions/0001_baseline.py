"""Baseline: the schema of release 13a4b61 (meta schema_version 1), the last before Alembic.

Every table, index and constraint is written out here, in the types they have on disk, and
nothing reads the models: later model edits must never change what this revision creates
(tests/test_migrations.py checks that a new database made by it is, table by table and index
by index, the database 13a4b61 made, and that it plus the later revisions match the models).

`adopt` is the other way in: a database 13a4b61 (or an earlier version-1 release) wrote has
no alembic_version table, and may lack what those releases added lazily at first use (the
tag_claim, member_keywords, member_activity and member_tags tables, the suggestion tables
and their partial indexes) or still carry what they stopped making (ix_message_chat_id).

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

log = logging.getLogger("siyu.storage")

# What 13a4b61's UTCDateTime and SQLModel's AutoString are on disk: DATETIME / VARCHAR on
# SQLite, timestamptz / varchar on PostgreSQL.
_TS = sa.DateTime(timezone=True)
_STR = sa.String
_ONE_OPEN = "status = 'pending' AND scenario <> 'invite'"
_QUEUED = "status = 'pending' AND notified_at IS NULL AND source = 'hook'"

BASELINE = sa.MetaData()


def _member_fk(ondelete: str | None = None) -> sa.Column[int]:
    return sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id", ondelete=ondelete),
                     nullable=False)


# Grouped as 13a4b61's models registered them; creation runs dependencies first.
sa.Table("meta", BASELINE,
         sa.Column("key", _STR(), primary_key=True),
         sa.Column("value", _STR(), nullable=False))
sa.Table("member", BASELINE,
         sa.Column("id", sa.Integer(), primary_key=True),
         sa.Column("member_id", _STR(), nullable=False),
         sa.Column("name", _STR(), nullable=False),
         sa.Column("first_seen", _TS),
         sa.Column("last_active", _TS),
         sa.Column("opted_out", sa.Boolean(), nullable=False),
         sa.Column("tags_stale", sa.Boolean(), nullable=False),
         sa.Index("ix_member_member_id", "member_id", unique=True))
sa.Table("chat", BASELINE,
         sa.Column("id", _STR(), primary_key=True),
         sa.Column("name", _STR()),
         sa.Column("is_group", sa.Boolean(), nullable=False),
         sa.Column("platform", _STR(), nullable=False))
sa.Table("audit_log", BASELINE,
         sa.Column("id", sa.Integer(), primary_key=True),
         sa.Column("ts", _TS, nullable=False),
         sa.Column("actor", _STR(), nullable=False),
         sa.Column("command", _STR(), nullable=False),
         sa.Column("target", _STR(), nullable=False),
         sa.Column("allowed", sa.Boolean(), nullable=False),
         sa.Index("ix_audit_log_ts", "ts"))
sa.Table("segment_run", BASELINE,
         sa.Column("id", sa.Integer(), primary_key=True),
         sa.Column("as_of", _TS, nullable=False),
         sa.Column("created_at", _TS, nullable=False),
         sa.Column("params", sa.JSON(), nullable=False),
         sa.Column("result", sa.JSON(), nullable=False),
         sa.Index("ix_segment_run_as_of", "as_of"))
sa.Table("suggest_state", BASELINE,
         sa.Column("key", _STR(), primary_key=True),
         sa.Column("value", _STR(), nullable=False))
sa.Table("identity", BASELINE,
         sa.Column("id", sa.Integer(), primary_key=True),
         _member_fk(),
         sa.Column("platform", _STR(), nullable=False),
         sa.Column("platform_id", _STR(), nullable=False),
         sa.UniqueConstraint("platform", "platform_id"),
         sa.Index("ix_identity_member_pk", "member_pk"))
sa.Table("message", BASELINE,
         sa.Column("id", _STR(), primary_key=True),
         sa.Column("chat_id", _STR(), nullable=False),
         _member_fk(),
         sa.Column("ts", _TS, nullable=False),
         sa.Column("type", _STR(), nullable=False),
         sa.Column("text", _STR()),
         sa.Column("signals", sa.JSON(), nullable=False),
         sa.Column("origin", _STR(), nullable=False),
         sa.Index("ix_message_ts", "ts"),
         sa.Index("ix_message_member_ts", "member_pk", "ts"))
sa.Table("tag", BASELINE,
         sa.Column("id", sa.Integer(), primary_key=True),
         _member_fk(),
         sa.Column("code", _STR(), nullable=False),
         sa.Column("kind", _STR(), nullable=False),
         sa.Column("label", _STR(), nullable=False),
         sa.Column("score", sa.Float(), nullable=False),
         sa.Column("evidence", sa.JSON(), nullable=False),
         sa.Column("expires_at", _TS),
         sa.Column("source", _STR(), nullable=False),
         sa.Column("computed_at", _TS),
         sa.UniqueConstraint("member_pk", "code", "source"),
         sa.Index("ix_tag_member_pk", "member_pk"))
sa.Table("tag_claim", BASELINE,
         sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), primary_key=True))
sa.Table("member_keywords", BASELINE,
         sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), primary_key=True),
         sa.Column("through_us", sa.Integer(), nullable=False),
         sa.Column("messages", sa.Integer(), nullable=False),
         sa.Column("words", sa.Text(), nullable=False))
sa.Table("member_activity", BASELINE,
         sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), primary_key=True),
         sa.Column("computed_us", sa.Integer(), nullable=False),
         sa.Column("messages", sa.Integer(), nullable=False),
         sa.Column("first_us", sa.Integer()),
         sa.Column("last_us", sa.Integer()),
         sa.Column("joined_us", sa.Integer()),
         sa.Column("recent", sa.Text(), nullable=False))
sa.Table("member_tags", BASELINE,
         sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), primary_key=True),
         sa.Column("computed_us", sa.Integer(), nullable=False),
         sa.Column("keys", sa.Text(), nullable=False),
         sa.Column("numbers", sa.LargeBinary(), nullable=False),
         sa.Column("intents", sa.Text(), nullable=False))
sa.Table("orders", BASELINE,
         sa.Column("order_id", _STR(), primary_key=True),
         _member_fk(),
         sa.Column("ts", _TS, nullable=False),
         sa.Column("amount", sa.Float(), nullable=False),
         sa.Column("category", _STR()),
         sa.Column("coupon_used", sa.Boolean(), nullable=False),
         sa.Column("origin", _STR(), nullable=False),
         sa.Index("ix_orders_member_ts", "member_pk", "ts"))
sa.Table("content_event", BASELINE,
         sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), primary_key=True),
         sa.Column("event_id", _STR(), primary_key=True),
         sa.Column("ts", _TS, nullable=False),
         sa.Column("content_type", _STR(), nullable=False),
         sa.Column("action", _STR(), nullable=False),
         sa.Column("duration", sa.Float()),
         sa.Column("origin", _STR(), nullable=False),
         sa.Index("ix_content_event_member_ts", "member_pk", "ts"))
sa.Table("external_link", BASELINE,
         sa.Column("id", sa.Integer(), primary_key=True),
         sa.Column("kind", _STR(), nullable=False),
         sa.Column("value", _STR(), nullable=False),
         _member_fk(),
         sa.Column("origin", _STR(), nullable=False),
         sa.UniqueConstraint("kind", "value"),
         sa.Index("ix_external_link_member_pk", "member_pk"))
sa.Table("consent_notice", BASELINE,
         sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), primary_key=True),
         sa.Column("sent_at", _TS, nullable=False))
sa.Table("member_segment", BASELINE,
         sa.Column("run_id", sa.Integer(), sa.ForeignKey("segment_run.id"), primary_key=True),
         sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), primary_key=True),
         sa.Column("value", _STR()),
         sa.Column("lifecycle", _STR()),
         sa.Column("motivation", _STR()),
         sa.Column("layer", _STR()),
         sa.Column("cluster", _STR()),
         sa.Index("ix_member_segment_member_pk", "member_pk"))
sa.Table("suggestion", BASELINE,
         sa.Column("id", sa.Integer(), primary_key=True),
         _member_fk(ondelete="CASCADE"),
         sa.Column("scenario", _STR(), nullable=False),
         sa.Column("trigger", _STR(), nullable=False),
         sa.Column("trigger_ts", _TS, nullable=False),
         sa.Column("message_id", _STR()),
         sa.Column("chat_id", _STR()),
         sa.Column("activity", _STR()),
         sa.Column("segment", _STR()),
         sa.Column("operator", _STR(), nullable=False),
         sa.Column("source", _STR(), nullable=False),
         sa.Column("variant", _STR(), nullable=False),
         sa.Column("template_text", _STR(), nullable=False),
         sa.Column("text", _STR(), nullable=False),
         sa.Column("alternatives", sa.JSON(), nullable=False),
         sa.Column("why", sa.JSON(), nullable=False),
         sa.Column("reasons", sa.JSON(), nullable=False),
         sa.Column("segments", sa.JSON(), nullable=False),
         sa.Column("next_action", _STR(), nullable=False),
         sa.Column("polished", sa.Boolean(), nullable=False),
         sa.Column("status", _STR(), nullable=False),
         sa.Column("final_text", _STR()),
         sa.Column("created_at", _TS, nullable=False),
         sa.Column("updated_at", _TS, nullable=False),
         sa.Column("notified_at", _TS),
         sa.Column("status_at", _TS),
         sa.UniqueConstraint("member_pk", "scenario", "trigger"),
         sa.Index("ix_suggestion_open", "member_pk", "scenario", "status"),
         sa.Index("ix_suggestion_notify", "operator", "notified_at"),
         sa.Index("ix_suggestion_member_pk", "member_pk"),
         sa.Index("ux_suggestion_one_open", "member_pk", "scenario", unique=True,
                  sqlite_where=sa.text(_ONE_OPEN), postgresql_where=sa.text(_ONE_OPEN)),
         sa.Index("ix_suggestion_queue", "operator", "trigger_ts",
                  sqlite_where=sa.text(_QUEUED), postgresql_where=sa.text(_QUEUED)))
sa.Table("notify_log", BASELINE,
         sa.Column("id", sa.Integer(), primary_key=True),
         _member_fk(ondelete="CASCADE"),
         sa.Column("operator", _STR(), nullable=False),
         sa.Column("at", _TS, nullable=False),
         sa.Index("ix_notify_log_operator_at", "operator", "at"),
         sa.Index("ix_notify_log_member_pk", "member_pk"))


def upgrade() -> None:
    """A new database: every table with its indexes, then the version row 13a4b61 wrote."""
    bind = op.get_bind()
    for table in BASELINE.sorted_tables:
        table.create(bind)
    op.bulk_insert(BASELINE.tables["meta"], [{"key": "schema_version", "value": "1"}])


def downgrade() -> None:
    """Back to an empty database (every table of the baseline dropped, data and all)."""
    bind = op.get_bind()
    for table in reversed(BASELINE.sorted_tables):
        table.drop(bind)


def adopt(conn: Connection) -> None:
    """Bring a version-1 database that predates Alembic to exactly this revision's schema.

    Run in the opening transaction, before the database is stamped with this revision.
    Tables those releases added at first use are created when missing, and indexes missing
    from tables that exist; ix_message_chat_id, which the models stopped making, goes.
    """
    existing = set(sa.inspect(conn).get_table_names())
    for table in BASELINE.sorted_tables:
        if table.name not in existing:
            table.create(conn)
            continue
        have = {ix["name"] for ix in sa.inspect(conn).get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
            if index.name in have:
                continue
            if index.name == "ux_suggestion_one_open":
                _keep_newest_open(conn)
            index.create(conn)
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_message_chat_id"))


def _keep_newest_open(conn: Connection) -> None:
    """Before the one-open-draft index: drop the older pending drafts of a member and
    scenario, which releases before that rule could leave (13a4b61 then skipped the index
    with a warning). The live hook overwrites an open draft with the newer one in place, so
    the newest is what it would have kept."""
    gone = conn.execute(sa.text(
        "DELETE FROM suggestion WHERE status = 'pending' AND scenario <> 'invite' "
        "AND EXISTS (SELECT 1 FROM suggestion AS newer WHERE newer.member_pk = "
        "suggestion.member_pk AND newer.scenario = suggestion.scenario "
        "AND newer.status = 'pending' AND (newer.trigger_ts > suggestion.trigger_ts "
        "OR (newer.trigger_ts = suggestion.trigger_ts AND newer.id > suggestion.id)))"))
    if gone.rowcount:
        log.warning("升级数据库：删除了 %d 条被更新草稿取代的待发建议"
                    "（每位成员每个场景只留最新一条）", gone.rowcount)
