"""Check tables: every check result, each check's current state, and the health score history."""

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, text
from sqlmodel import Field, SQLModel


class CheckResult(SQLModel, table=True):
    """One run of one check (or its pause by a maintenance window)."""

    __tablename__ = "check_result"
    __table_args__ = (
        Index("ix_check_result_check_at", "check", "at"),
        # the few results that are not up: uptime reads only these (tasks/slo/uptime.py)
        Index(
            "ix_check_result_not_up",
            "check",
            "at",
            sqlite_where=text("status != 'up'"),
            postgresql_where=text("status != 'up'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    check: str = Field(max_length=255)
    target: str = Field(max_length=255)
    component: str = Field(max_length=255)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    status: str = Field(max_length=16, description="up, down, unreachable or unknown.")
    is_hard: bool
    attempt: int = Field(description="Consecutive failed runs (kept while a hard DOWN recovers).")
    tries: int = Field(description="Tries within this run (retries + 1 at most).")
    latency_ms: float | None = None
    message: str = Field(sa_column=Column(Text, nullable=False))


class CheckStateRecord(SQLModel, table=True):
    """A check's state between runs, so a restart continues its soft/hard counting."""

    __tablename__ = "check_state"

    check: str = Field(primary_key=True, max_length=255)
    target: str = Field(max_length=255)
    status: str = Field(max_length=16)
    is_hard: bool
    failures: int
    passes: int
    since: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    checked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    message: str = Field(sa_column=Column(Text, nullable=False))


class HealthScoreRecord(SQLModel, table=True):
    """A health score of a check, component, target or the system at one instant."""

    __tablename__ = "health_score"
    __table_args__ = (Index("ix_health_score_scope_node_at", "scope", "node", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    scope: str = Field(max_length=16, description="check, component, target or system.")
    node: str = Field(max_length=255, description="Check, target/component, target or system.")
    score: float | None = Field(default=None, description="0-100; empty when unknown.")
    level: str = Field(max_length=16)
