"""Alerting: alerts, transitions, groups, silences, notification outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(32), nullable=False, unique=True),
        sa.Column("rule", sa.String(255), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("annotations", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        _ts("active_since"),
        _ts("fired_at"),
        _ts("cleared_at"),
        _ts("resolved_at"),
        _ts("observed_at"),
        sa.Column("is_flapping", sa.Boolean(), nullable=False),
        sa.Column("flap_changes", sa.Text(), nullable=False),
        sa.Column("ack_by", sa.String(255), nullable=True),
        _ts("ack_at"),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_index("ix_alert_rule", "alert", ["rule"])
    op.create_index("ix_alert_state", "alert", ["state"])
    op.create_table(
        "alert_transition",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(255), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        _ts("at", nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(255), nullable=False),
    )
    op.create_index("ix_alert_transition_alert_id", "alert_transition", ["alert_id"])
    op.create_table(
        "alert_group",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("route", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        _ts("next_flush_at", nullable=False),
        _ts("last_notified_at"),
        sa.Column("notified", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("route", "group_key", name="uq_alert_group_route_key"),
    )
    op.create_index("ix_alert_group_next_flush_at", "alert_group", ["next_flush_at"])
    op.create_table(
        "silence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("matchers", sa.Text(), nullable=False),
        _ts("starts_at", nullable=False),
        _ts("ends_at", nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_silence_ends_at", "silence", ["ends_at"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fingerprints", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("claimed_at"),
        _ts("sent_at"),
    )
    op.create_index("ix_notification_status", "notification", ["status"])
    op.create_index("ix_notification_next_attempt_at", "notification", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("notification")
    op.drop_table("silence")
    op.drop_table("alert_group")
    op.drop_table("alert_transition")
    op.drop_table("alert")
