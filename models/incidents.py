"""Incidents: alerts that fired close together on related targets, with their likely cause."""

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Incident(SQLModel, table=True):
    """One incident: opened by its first alert, closed once every member alert resolved."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True)
    )
    cause_target: str = Field(
        sa_column=Column(String(255), nullable=False),
        description="The likely cause: the most upstream failing target.",
    )
    cause_rule: str = Field(sa_column=Column(String(255), nullable=False))
    found_by: str = Field(
        sa_column=Column(String(255), nullable=False), description="Rule of the first alert."
    )
    ending: str | None = Field(
        default=None,
        sa_column=Column(String(32), nullable=True),
        description="auto-fixed, fixed by a person or resolved by itself.",
    )
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class IncidentAlert(SQLModel, table=True):
    """One alert firing that belongs to an incident."""

    __tablename__ = "incident_alert"
    __table_args__ = (
        UniqueConstraint("incident_id", "fingerprint", name="uq_incident_alert"),
        Index("ix_incident_alert_fingerprint", "fingerprint"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    fingerprint: str = Field(sa_column=Column(String(32), nullable=False))
    rule: str = Field(sa_column=Column(String(255), nullable=False))
    target: str = Field(sa_column=Column(String(255), nullable=False))
    fired_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    labels: str = Field(sa_column=Column(Text, nullable=False), description="Canonical JSON.")
    joined_by: str = Field(
        default="",
        sa_column=Column(String(64), nullable=False, server_default=""),
        description="opened it, depends_on, or moved together (r=0.97 with the incident's series).",
    )
