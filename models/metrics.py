"""Metric tables: a series is a name plus a canonical label set; samples hang off it."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


class MetricKind(StrEnum):
    """How a series' values behave over time."""

    GAUGE = "gauge"  # goes up and down; read as is
    COUNTER = "counter"  # only goes up, resets to zero on restart; read as a rate


class Series(SQLModel, table=True):
    """One time series: ``name{labels}``."""

    __table_args__ = (UniqueConstraint("name", "labels", name="uq_series_name_labels"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=255)
    labels: str = Field(description="Canonical JSON of the label set (sorted keys).")
    kind: MetricKind = Field(default=MetricKind.GAUGE, max_length=16)
    unit: str = Field(default="", max_length=32)
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), sa_type=DateTime(timezone=True)
    )


class Sample(SQLModel, table=True):
    """One value of a series at one instant (milliseconds since the epoch, UTC).

    No foreign key to ``series``: only the store writes samples, with ids it resolved,
    and a per-row key check would cost a large share of ingest speed.
    """

    __table_args__ = {"sqlite_with_rowid": False}

    series_id: int = Field(primary_key=True)
    ts_ms: int = Field(sa_column=Column(BigInteger, primary_key=True))
    value: float
