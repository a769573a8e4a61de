"""Interest words learned from the community itself (`learned_interest`).

A shop's own product words become interest evidence without hand editing
(persona/learned.py); each learning replaces the whole set and keeps every word's evidence
for the operator to see (`siyu interests`). Only adds a table: nothing existing changes, and
an empty table means "nothing learned yet", which reads exactly as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Guarded, as 0003: a database this code made and then had its alembic_version dropped
    # (as a pre-Alembic release's looked) is adopted at 0001 and comes here with the table.
    if sa.inspect(op.get_bind()).has_table("learned_interest"):
        return
    op.create_table(
        "learned_interest",
        sa.Column("word", sa.String(), primary_key=True),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("quotes", sa.JSON(), nullable=False))


def downgrade() -> None:
    op.drop_table("learned_interest")
    op.execute("DELETE FROM meta WHERE key = 'learned_as_of'")
