"""SLOs and incidents: incidents with their alerts, and an index of the results not up.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cause_target", sa.String(255), nullable=False),
        sa.Column("cause_rule", sa.String(255), nullable=False),
        sa.Column("found_by", sa.String(255), nullable=False),
        sa.Column("ending", sa.String(32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_incident_closed_at", "incident", ["closed_at"])
    op.create_table(
        "incident_alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.UniqueConstraint("incident_id", "fingerprint", name="uq_incident_alert"),
    )
    op.create_index("ix_incident_alert_incident_id", "incident_alert", ["incident_id"])
    op.create_index("ix_incident_alert_fingerprint", "incident_alert", ["fingerprint"])
    not_up = sa.text("status != 'up'")
    op.create_index(
        "ix_check_result_not_up",
        "check_result",
        ["check", "at"],
        sqlite_where=not_up,
        postgresql_where=not_up,
    )


def downgrade() -> None:
    op.drop_index("ix_check_result_not_up", table_name="check_result")
    op.drop_table("incident_alert")
    op.drop_table("incident")
