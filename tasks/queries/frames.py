"""What every query module shares: which capabilities' tables exist, and times as aware UTC."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

if TYPE_CHECKING:
    import pandas as pd


def has_tables(engine: Engine, *tables: type[SQLModel]) -> bool:
    """Return True when every table of ``tables`` exists (its capability has landed)."""
    existing = set(inspect(engine).get_table_names())
    return all(t.__tablename__ in existing for t in tables)


def utc(values: "pd.Series") -> "pd.Series":
    """Stored timestamps as aware UTC (SQLite hands them back naive, meaning UTC)."""
    import pandas as pd

    return pd.to_datetime(values, utc=True)


def utc_columns(frame: "pd.DataFrame", *names: str) -> "pd.DataFrame":
    """Turn the timestamp columns ``names`` of ``frame`` into aware UTC, in place."""
    for name in names:
        frame[name] = utc(frame[name])
    return frame


def aware(value: datetime | None) -> datetime | None:
    """A stored timestamp as aware UTC (SQLite hands it back naive, meaning UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def millis(ts: datetime) -> int:
    """Milliseconds since the epoch, as the metric store keeps time."""
    return round(ts.timestamp() * 1000)
