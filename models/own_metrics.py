"""Vigil's own counters, one row per (name, labels), shared by every Vigil process."""

from sqlalchemy import Column, Float, String
from sqlmodel import Field, SQLModel


class OwnCounter(SQLModel, table=True):
    """A monotonic counter; each process adds its increments where the event happens."""

    __tablename__ = "own_counter"

    name: str = Field(sa_column=Column(String(128), primary_key=True))
    labels: str = Field(
        sa_column=Column(String(1000), primary_key=True),
        description="Canonical JSON of the label set (sorted keys); '{}' when none.",
    )
    value: float = Field(sa_column=Column(Float, nullable=False))
