"""Remediate-then-escalate state: one row per alert whose rule has ``remediate:``."""

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class RemediationState(SQLModel, table=True):
    """Attempts, healthy cycles and the pending verdict of one alert; compare-and-set."""

    __tablename__ = "remediation"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=32, unique=True, description="The alert's fingerprint.")
    rule: str = Field(max_length=255)
    target: str = Field(max_length=255)
    phase: str = Field(max_length=16, description="tasks.core.recovery.remediation.Phase.")
    attempts: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    healthy_cycles: int = 0
    episode_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    deadline: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    run_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    version: int = 0
    updated_at: datetime = Field(
        default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
