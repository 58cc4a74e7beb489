"""Collection: 1-minute and 1-hour rollups.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _rollup_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("series_id", sa.Integer(), primary_key=True),
        sa.Column("bucket_ms", sa.BigInteger(), primary_key=True),
        sa.Column("min_value", sa.Float(), nullable=False),
        sa.Column("max_value", sa.Float(), nullable=False),
        sa.Column("avg_value", sa.Float(), nullable=False),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.Column("last_ts_ms", sa.BigInteger(), nullable=False),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    _rollup_table("rollup_1m")
    _rollup_table("rollup_1h")


def downgrade() -> None:
    op.drop_table("rollup_1h")
    op.drop_table("rollup_1m")
