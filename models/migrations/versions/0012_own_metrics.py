"""Own metrics: counters shared by every Vigil process, read by each ``/metrics``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "own_counter",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("labels", sa.String(1000), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("own_counter")
