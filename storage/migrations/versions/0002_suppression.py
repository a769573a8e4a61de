"""Erasure that sticks: the suppression table (issue 16).

`siyu forget` and the chat command /删除 leave a keyed hash of each erased platform id here,
so later imports and the live bot skip that person until they opt back in. The HMAC key is a
`meta` row written at the first erasure, not here: a database nobody was erased from has none.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # A database stamped with the baseline by adoption may already have the table (made by
    # a newer siyu whose version row went missing): nothing to add then.
    if "suppression" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table("suppression", sa.Column("hash", sa.String(), primary_key=True))


def downgrade() -> None:
    """Drops the hashes, and the key with them: after a downgrade, erased members would be
    imported again."""
    op.drop_table("suppression")
    op.execute("DELETE FROM meta WHERE key = 'suppression_key'")
