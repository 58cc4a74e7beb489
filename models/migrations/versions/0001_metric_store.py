"""Metric store: series and samples.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "labels", name="uq_series_name_labels"),
    )
    op.create_index("ix_series_name", "series", ["name"])
    op.create_table(
        "sample",
        sa.Column("series_id", sa.Integer(), primary_key=True),
        sa.Column("ts_ms", sa.BigInteger(), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("sample")
    op.drop_index("ix_series_name", table_name="series")
    op.drop_table("series")
