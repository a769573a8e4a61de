"""The kept tables' microsecond times become 64-bit (`member_keywords.through_us`,
`member_activity.computed_us/first_us/last_us/joined_us`, `member_tags.computed_us`).

Revision 0001 declared them `Integer`: 64 bits on SQLite, but PostgreSQL's 32-bit `integer`
refuses any real time in microseconds ("integer out of range"), so the tag rebuild could
never keep those rows there and segmentation on PostgreSQL took the per-member path. Every
row is kept: on PostgreSQL the columns widen in place, on SQLite (which stores any integer
in 64 bits anyway) the tables are copied with the new declared type.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    # table: (column, nullable) …
    "member_keywords": (("through_us", False),),
    "member_activity": (("computed_us", False), ("first_us", True), ("last_us", True),
                        ("joined_us", True)),
    "member_tags": (("computed_us", False),),
}


def _retype(wide: bool) -> None:
    """Every column to BigInteger (`wide`) or back to Integer, those already so left alone
    (a database this code made, adopted at 0001 again, comes here already wide)."""
    to, before = (sa.BigInteger, sa.Integer) if wide else (sa.Integer, sa.BigInteger)
    inspector = sa.inspect(op.get_bind())
    for table, columns in COLUMNS.items():
        # BigInteger is an Integer to isinstance: ask for the wide type itself
        types = {c["name"]: isinstance(c["type"], sa.BigInteger)
                 for c in inspector.get_columns(table)}
        todo = [(name, nullable) for name, nullable in columns if types[name] != wide]
        if not todo:
            continue
        with op.batch_alter_table(table) as batch:
            for name, nullable in todo:
                batch.alter_column(name, type_=to(), existing_type=before(),
                                   existing_nullable=nullable)


def upgrade() -> None:
    _retype(wide=True)


def downgrade() -> None:
    """Back to `Integer`. On PostgreSQL no real microsecond time fits, so the rows go first:
    they are what the tag rebuild keeps for segmentation, which counts a member without one
    from the message and tag tables, as it did before this revision."""
    if op.get_bind().dialect.name == "postgresql":
        for table in COLUMNS:
            op.execute(f"DELETE FROM {table}")
    _retype(wide=False)
