"""Analytics tables: model versions, stored forecasts with intervals, anomaly scores."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time in UTC (only for defaults; flows pass ``now``)."""
    return datetime.now(UTC)


class ModelStatus(StrEnum):
    """Where a model version stands."""

    CURRENT = "current"  # used for forecasts of its series; at most one per series
    CANDIDATE = "candidate"  # fitted but did not beat the current version; kept for audit
    RETIRED = "retired"  # was current until a better version replaced it
    FAILED = "failed"  # could not be fitted; ``error`` says why


class ModelVersion(SQLModel, table=True):
    """One fitted model of one series, with what it was trained on and how it backtested."""

    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("series_id", "version", name="uq_model_version"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(index=True)
    version: int
    model: str = Field(max_length=32)
    status: ModelStatus = Field(max_length=16)
    period: int = Field(description="Season in rows (1: none).")
    seasonality: str = Field(max_length=16)
    params: str = Field(default="{}", description="JSON of the fitted parameters.")
    train_start: datetime = Field(sa_type=DateTime(timezone=True))
    train_end: datetime = Field(sa_type=DateTime(timezone=True))
    backtest_mase: float
    baseline_mase: float
    backtest: str = Field(default="{}", description="JSON: MASE of every candidate.")
    reason: str = Field(default="", max_length=64, description="schedule, drift or first fit.")
    error: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ForecastPoint(SQLModel, table=True):
    """One forecast step with its 95 % interval, from one issue of one model version."""

    __tablename__ = "forecast_point"
    __table_args__ = (Index("ix_forecast_series_issued", "series_id", "issued_at"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int
    model_version_id: int
    issued_at: datetime = Field(sa_type=DateTime(timezone=True))
    ts: datetime = Field(sa_type=DateTime(timezone=True))
    yhat: float
    lower: float
    upper: float


class AnomalyScore(SQLModel, table=True):
    """A detector's score of one sample of one series (also written as vigil_anomaly_score)."""

    __tablename__ = "anomaly_score"
    __table_args__ = {"sqlite_with_rowid": False}

    series_id: int = Field(primary_key=True)
    detector: str = Field(primary_key=True, max_length=32)
    ts_ms: int = Field(sa_column=Column(BigInteger, primary_key=True))
    score: float
