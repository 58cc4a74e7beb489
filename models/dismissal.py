"""Dismissals: an operator's verdict that an alert was a false positive."""

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class AlertDismissal(SQLModel, table=True):
    """A false positive: its rule stays quiet on that series until ``until``.

    Retraining reads the dismissals of a series (``metric`` label plus the series labels)
    and records them in the new model version.
    """

    __tablename__ = "alert_dismissal"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int | None = Field(default=None, description="The dismissed alert, if known.")
    rule: str = Field(max_length=255, index=True)
    labels: str = Field(sa_column=Column(Text, nullable=False), description="Canonical JSON.")
    value: float | None = Field(default=None, description="The alert's value when it fired.")
    fired_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    created_by: str = Field(max_length=255)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
