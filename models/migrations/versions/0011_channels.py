"""Channels: the notify type a notice is coloured by, and each channel's circuit breaker.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(
            sa.Column("notify_type", sa.String(16), nullable=False, server_default="info")
        )
    op.create_table(
        "channel_breaker",
        sa.Column("channel", sa.String(255), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_breaker")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("notify_type")
