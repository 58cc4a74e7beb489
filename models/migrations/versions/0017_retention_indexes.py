"""Retention indexes: time-only indexes for batched deletes, and the hourly rollup's join.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXES = {  # kept in step with models/retention_indexes.py
    "ix_sample_ts_ms": ("sample", ["ts_ms"]),
    "ix_rollup_1m_bucket_ms": ("rollup_1m", ["bucket_ms"]),
    "ix_rollup_1h_bucket_ms": ("rollup_1h", ["bucket_ms"]),
    "ix_rollup_1m_series_last_ts": ("rollup_1m", ["series_id", "last_ts_ms"]),
    "ix_health_score_at": ("health_score", ["at"]),
    "ix_alert_updated_at": ("alert", ["updated_at"]),
    "ix_notification_created_at": ("notification", ["created_at"]),
    "ix_recovery_run_finished_at": ("recovery_run", ["finished_at"]),
    "ix_recovery_audit_at": ("recovery_audit", ["at"]),
    "ix_forecast_point_issued_at": ("forecast_point", ["issued_at"]),
    "ix_anomaly_score_ts_ms": ("anomaly_score", ["ts_ms"]),
    "ix_series_created_at": ("series", ["created_at"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
