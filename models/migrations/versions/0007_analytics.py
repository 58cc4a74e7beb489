"""Analytics: model versions, forecasts with intervals, anomaly scores.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("seasonality", sa.String(16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("train_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("train_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("backtest_mase", sa.Float(), nullable=False),
        sa.Column("baseline_mase", sa.Float(), nullable=False),
        sa.Column("backtest", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("series_id", "version", name="uq_model_version"),
    )
    op.create_index("ix_model_version_series_id", "model_version", ["series_id"])
    op.create_table(
        "forecast_point",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("yhat", sa.Float(), nullable=False),
        sa.Column("lower", sa.Float(), nullable=False),
        sa.Column("upper", sa.Float(), nullable=False),
    )
    op.create_index("ix_forecast_series_issued", "forecast_point", ["series_id", "issued_at"])
    op.create_table(
        "anomaly_score",
        sa.Column("series_id", sa.Integer(), primary_key=True),
        sa.Column("detector", sa.String(32), primary_key=True),
        sa.Column("ts_ms", sa.BigInteger(), primary_key=True),
        sa.Column("score", sa.Float(), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("anomaly_score")
    op.drop_index("ix_forecast_series_issued", table_name="forecast_point")
    op.drop_table("forecast_point")
    op.drop_index("ix_model_version_series_id", table_name="model_version")
    op.drop_table("model_version")
