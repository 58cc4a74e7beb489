"""Recovery: runs, safety guards, audit log.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recovery_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("procedure", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("trigger", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("is_dry_run", sa.Boolean(), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
    )
    op.create_index("ix_recovery_run_procedure", "recovery_run", ["procedure"])
    op.create_table(
        "recovery_guard",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("procedure", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("is_disabled", sa.Boolean(), nullable=False),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("procedure", "target", name="uq_recovery_guard"),
    )
    op.create_table(
        "recovery_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("procedure", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_recovery_audit_run_id", "recovery_audit", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_recovery_audit_run_id", table_name="recovery_audit")
    op.drop_table("recovery_audit")
    op.drop_table("recovery_guard")
    op.drop_index("ix_recovery_run_procedure", table_name="recovery_run")
    op.drop_table("recovery_run")
