"""Every name a member goes by (`member_name`), and staff roles from chat exports
(`member.staff_role`).

Operators name people by account name, group nickname or alias (orders files, `siyu link`,
the console bot), and a chat export's owner/admin roles mark our own staff, who must never
be profiled, scripted or counted. Both only add: existing rows keep their meaning, the
names fill in on the next import of an export that lists members.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Guarded: a database this code made and then had its alembic_version dropped (as a
    # pre-Alembic release's looked) is adopted at 0001 and comes here with both already.
    inspector = sa.inspect(op.get_bind())
    if "staff_role" not in {c["name"] for c in inspector.get_columns("member")}:
        op.add_column("member", sa.Column("staff_role", sa.String(), nullable=True))
    if inspector.has_table("member_name"):
        return
    op.create_table(
        "member_name",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_pk", sa.Integer(), sa.ForeignKey("member.id"), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.UniqueConstraint("member_pk", "name"))
    op.create_index("ix_member_name_member_pk", "member_name", ["member_pk"])
    op.create_index("ix_member_name_name", "member_name", ["name"])


def downgrade() -> None:
    op.drop_index("ix_member_name_name", "member_name")
    op.drop_index("ix_member_name_member_pk", "member_name")
    op.drop_table("member_name")
    # A plain DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): a batch copy of `member` would drop
    # the table that every other table's foreign keys point at, which SQLite refuses here.
    op.execute("ALTER TABLE member DROP COLUMN staff_role")
