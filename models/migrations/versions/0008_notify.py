"""Notification side of the alert lifecycle: ack expiry, ack history, decaying repeats.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(_ts("ack_expires_at"))
        batch.add_column(_ts("escalation_since"))
    with op.batch_alter_table("alert_group") as batch:
        batch.add_column(sa.Column("repeats", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        _ts("at", nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_alert_event_alert_id", "alert_event", ["alert_id"])
    # Resolved alerts now tell the escalation levels they reached (then reset the level to 0);
    # alerts that resolved before this revision must not all say so at once after upgrading.
    op.execute("UPDATE alert SET escalation_level = 0 WHERE state NOT IN ('pending', 'firing')")


def downgrade() -> None:
    op.drop_index("ix_alert_event_alert_id", "alert_event")
    op.drop_table("alert_event")
    with op.batch_alter_table("alert_group") as batch:
        batch.drop_column("repeats")
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("escalation_since")
        batch.drop_column("ack_expires_at")
