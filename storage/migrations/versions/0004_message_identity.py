"""A message is (chat, platform message id): the message table's key becomes (id, chat_id).

Many exports number their messages per chat, so with the key on `id` alone the second of two
chats numbering 1..5 was counted 重复 5 and lost (issue 16, item 2). Every stored row keeps
its id and chat: under the old key no two rows shared an id, so each is still one row under
the new one, and everything that cites a message by its id (tag evidence, suggestions'
message_id and trigger key, cards' quotes in stored runs, conflicts, erasure's scrub) still
finds the very message it found before. Nothing is rewritten; what the old key had refused
(the other chats' messages under a taken id) comes in at the next import of those files.

The key's columns are (id, chat_id), id first, so its index still serves the reads by id.
SQLite cannot change a table's key in place: the table is copied (`batch_alter_table`),
indexes and all; no other table points at it, so foreign keys are not touched.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _key_columns() -> list[str]:
    return list(sa.inspect(op.get_bind()).get_pk_constraint("message")["constrained_columns"])


def _message_table(key: list[str]) -> sa.Table:
    """The message table as revisions 0001–0003 made it, with `key` as its primary key."""
    return sa.Table(
        "message", sa.MetaData(),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("chat_id", sa.String(), nullable=False),
        sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("text", sa.String()),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint(*key),
        sa.Index("ix_message_ts", "ts"),
        sa.Index("ix_message_member_ts", "member_pk", "ts"))


def _set_key(columns: list[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # The copy is declared whole: the batch's reflected table would keep the old key.
        with op.batch_alter_table("message", recreate="always",
                                  copy_from=_message_table(columns)):
            pass
        return
    name = sa.inspect(bind).get_pk_constraint("message")["name"] or "message_pkey"
    op.drop_constraint(name, "message", type_="primary")
    op.create_primary_key(name, "message", columns)


def upgrade() -> None:
    # Guarded: a database this code made and then lost its alembic_version row (adopted at
    # 0001 again) already has the new key.
    if _key_columns() != ["id", "chat_id"]:
        _set_key(["id", "chat_id"])


def downgrade() -> None:
    """Back to the key on id alone, unless that would merge messages: an id stored in two
    chats since the upgrade cannot be kept under the old key, and nothing is dropped to make
    it fit."""
    shared = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM (SELECT id FROM message GROUP BY id HAVING count(*) > 1) AS s"))
    if shared:
        raise RuntimeError(
            f"{shared} 个消息 id 在多个聊天中都有：旧版本的结构（id 唯一）装不下，不能降级")
    _set_key(["id"])
