"""Silences: who ended a silence early (NULL: it ran out, or was ended before this column).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("silence") as batch:
        batch.add_column(sa.Column("expired_by", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("silence") as batch:
        batch.drop_column("expired_by")
