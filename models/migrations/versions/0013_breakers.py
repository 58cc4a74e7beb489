"""Breakers: circuit breakers of scrape targets and recovery HTTP steps; every breaker's
transitions (channels' too), for the dashboard and the alert timeline.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "breaker",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "breaker_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_breaker_event_name", "breaker_event", ["name"])
    op.create_index("ix_breaker_event_at", "breaker_event", ["at"])


def downgrade() -> None:
    op.drop_index("ix_breaker_event_at", "breaker_event")
    op.drop_index("ix_breaker_event_name", "breaker_event")
    op.drop_table("breaker_event")
    op.drop_table("breaker")
