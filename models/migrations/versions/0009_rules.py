"""Rules: dismissals of false-positive alerts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_dismissal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(255), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alert_dismissal_rule", "alert_dismissal", ["rule"])
    op.create_index("ix_alert_dismissal_until", "alert_dismissal", ["until"])


def downgrade() -> None:
    op.drop_index("ix_alert_dismissal_until", "alert_dismissal")
    op.drop_index("ix_alert_dismissal_rule", "alert_dismissal")
    op.drop_table("alert_dismissal")
