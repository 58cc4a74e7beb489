"""Incidents: how each alert joined its incident (opened it, a dependency, moved together).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident_alert") as batch:
        batch.add_column(sa.Column("joined_by", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("incident_alert") as batch:
        batch.drop_column("joined_by")
