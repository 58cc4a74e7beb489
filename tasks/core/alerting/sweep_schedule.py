"""When a sweep run sweeps, and how its sweeps' reports add up: plain data, no clock."""

from datetime import datetime, timedelta


def sweep_times(began: datetime, window_seconds: float, every_seconds: float) -> list[datetime]:
    """The moments a run that began at ``began`` sweeps: at once, then every ``every_seconds``
    while within ``window_seconds`` (0: a single sweep).

    >>> from datetime import UTC
    >>> start = datetime(2025, 1, 1, tzinfo=UTC)
    >>> [(t - start).total_seconds() for t in sweep_times(start, 0.4, 0.2)]
    [0.0, 0.2, 0.4]
    >>> len(sweep_times(start, 0, 15))
    1
    """
    if window_seconds > 0 and every_seconds <= 0:
        raise ValueError(f"every_seconds must be positive to sweep a window, not {every_seconds}")
    offsets = [0.0]
    while window_seconds > 0 and len(offsets) * every_seconds <= window_seconds:
        offsets.append(len(offsets) * every_seconds)
    return [began + timedelta(seconds=offset) for offset in offsets]


def add_counts(totals: dict, report: dict) -> dict:
    """Return ``totals`` with the counts of one sweep's ``report`` added (nested dicts alike).

    >>> add_counts({"sent": 1, "delivery": {"failed": 1}}, {"sent": 2, "delivery": {"failed": 1}})
    {'sent': 3, 'delivery': {'failed': 2}}
    """
    added = dict(totals)
    for key, value in report.items():
        if isinstance(value, dict):
            added[key] = add_counts(totals.get(key, {}), value)
        elif isinstance(value, int | float):
            added[key] = totals.get(key, 0) + value
    return added
