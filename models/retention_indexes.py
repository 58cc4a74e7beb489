"""Indexes that let retention find old rows by time alone, and the hourly rollup its minutes.

Retention deletes ``WHERE <time> < :cutoff`` in batches; without an index on the time
column each batch scans the whole table. The hourly rollup joins ``rollup_1m`` on
``(series_id, last_ts_ms)``, which the primary key ``(series_id, bucket_ms)`` does not cover.
Declared here, beside the tables, so the models match migration 0013.
"""

from sqlalchemy import Index

from models.alerting import Alert, Notification
from models.analytics import AnomalyScore, ForecastPoint
from models.checks import HealthScoreRecord
from models.metrics import Sample, Series
from models.recovery import RecoveryAudit, RecoveryRun
from models.rollups import Rollup1h, Rollup1m

INDEXES = {
    "ix_sample_ts_ms": (Sample, ("ts_ms",)),
    "ix_rollup_1m_bucket_ms": (Rollup1m, ("bucket_ms",)),
    "ix_rollup_1h_bucket_ms": (Rollup1h, ("bucket_ms",)),
    "ix_rollup_1m_series_last_ts": (Rollup1m, ("series_id", "last_ts_ms")),
    "ix_health_score_at": (HealthScoreRecord, ("at",)),
    "ix_alert_updated_at": (Alert, ("updated_at",)),
    "ix_notification_created_at": (Notification, ("created_at",)),
    "ix_recovery_run_finished_at": (RecoveryRun, ("finished_at",)),
    "ix_recovery_audit_at": (RecoveryAudit, ("at",)),
    "ix_forecast_point_issued_at": (ForecastPoint, ("issued_at",)),
    "ix_anomaly_score_ts_ms": (AnomalyScore, ("ts_ms",)),
    "ix_series_created_at": (Series, ("created_at",)),
}
"""Index name -> (model, columns); migration 0013 creates the same."""

for _name, (_model, _columns) in INDEXES.items():
    _table = _model.__table__  # type: ignore[attr-defined]
    Index(_name, *(_table.c[column] for column in _columns))
