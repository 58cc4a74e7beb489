"""Recovery runs remember the Prefect lease of their target's lock, freed if their worker dies.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recovery_run") as batch:
        batch.add_column(sa.Column("lock_lease_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recovery_run") as batch:
        batch.drop_column("lock_lease_id")
