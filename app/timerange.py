"""Time ranges for charts: presets relative to now, or a custom start and end."""

from datetime import UTC, date, datetime, time, timedelta

PRESETS = {
    "Last 15 minutes": timedelta(minutes=15),
    "Last hour": timedelta(hours=1),
    "Last 6 hours": timedelta(hours=6),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}
CUSTOM = "Custom"


def preset_range(preset: str, *, now: datetime) -> tuple[datetime, datetime]:
    """Return ``(start, end)`` of a preset ending at ``now``.

    >>> preset_range("Last hour", now=datetime(2026, 1, 1, 12, tzinfo=UTC))[0].hour
    11
    """
    return now - PRESETS[preset], now


def custom_range(
    start_day: date, start_time: time, end_day: date, end_time: time
) -> tuple[datetime, datetime]:
    """Return the UTC range between two days and times; raise ValueError if it is empty.

    >>> custom_range(date(2026, 1, 2), time(0), date(2026, 1, 1), time(0))
    Traceback (most recent call last):
    ValueError: the range ends before it starts; pick an end after the start
    """
    start = datetime.combine(start_day, start_time, UTC)
    end = datetime.combine(end_day, end_time, UTC)
    if end <= start:
        raise ValueError("the range ends before it starts; pick an end after the start")
    return start, end
