"""Access audit: one-time approval codes, dashboard logins, loads of vigil.yaml; the path
of each recovery answer (Prefect UI, dashboard, CLI, API).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("recovery_audit") as batch:
        batch.add_column(sa.Column("path", sa.String(32), nullable=False, server_default=""))
    op.create_table(
        "approval_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=False),
        sa.Column("path", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("issued_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
    )
    op.create_index("ix_approval_code_user", "approval_code", ["user"])
    op.create_table(
        "login_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("client", sa.String(255), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
    )
    for column in ("at", "user", "session_id"):
        op.create_index(f"ix_login_audit_{column}", "login_audit", [column])
    op.create_table(
        "config_load",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("started_by", sa.String(255), nullable=False),
        sa.Column("diff", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
    )
    op.create_index("ix_config_load_at", "config_load", ["at"])


def downgrade() -> None:
    for table in ("config_load", "login_audit", "approval_code"):
        op.drop_table(table)
    with op.batch_alter_table("recovery_audit") as batch:
        batch.drop_column("path")
