"""Health checks: results, current states, health score history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_result",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("check", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("component", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_hard", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
    )
    op.create_index("ix_check_result_at", "check_result", ["at"])
    op.create_index("ix_check_result_check_at", "check_result", ["check", "at"])
    op.create_table(
        "check_state",
        sa.Column("check", sa.String(255), primary_key=True),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_hard", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("passes", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
    )
    op.create_table(
        "health_score",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
    )
    op.create_index("ix_health_score_scope_node_at", "health_score", ["scope", "node", "at"])


def downgrade() -> None:
    op.drop_index("ix_health_score_scope_node_at", table_name="health_score")
    op.drop_table("health_score")
    op.drop_table("check_state")
    op.drop_index("ix_check_result_check_at", table_name="check_result")
    op.drop_index("ix_check_result_at", table_name="check_result")
    op.drop_table("check_result")
