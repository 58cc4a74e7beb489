"""Circuit breakers of scrape targets and recovery HTTP steps, and every breaker's transitions.

A notification channel's breaker lives in ``channel_breaker`` (models.alerting); its
transitions are written to ``breaker_event`` too, with ``kind`` "channel".
"""

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, String
from sqlmodel import Field, SQLModel


class CalleeBreaker(SQLModel, table=True):
    """The breaker of one scrape target or recovery HTTP step, shared by every process."""

    __tablename__ = "breaker"

    kind: str = Field(
        sa_column=Column(String(16), primary_key=True), description="scrape, recovery."
    )
    name: str = Field(sa_column=Column(String(255), primary_key=True))
    state: str = Field(max_length=16, description="closed, open or half_open.")
    failures: int = 0
    opened_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    version: int = 0


class BreakerEvent(SQLModel, table=True):
    """One breaker changed state (opened, probed half-open, closed)."""

    __tablename__ = "breaker_event"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    kind: str = Field(
        sa_column=Column(String(16), nullable=False), description="channel, scrape, recovery."
    )
    name: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    state: str = Field(max_length=16, description="The state it entered.")
    failures: int = Field(description="Consecutive failures when it changed.")
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
