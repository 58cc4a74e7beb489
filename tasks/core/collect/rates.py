"""Rates of cumulative counters, across counter resets."""

from collections.abc import Sequence
from itertools import pairwise


def counter_increase(values: Sequence[float]) -> float:
    """Return how much a counter grew over ``values``, counting through resets.

    A value lower than the one before means the process restarted and the counter
    began again at zero, so the new value itself is the growth since the reset.

    >>> counter_increase([10, 15, 3, 8])
    13.0
    """
    total = 0.0
    for before, after in pairwise(values):
        total += after - before if after >= before else after
    return total


def counter_rate(points: Sequence[tuple[float, float]]) -> float | None:
    """Return the per-second rate of ``(ts_seconds, value)`` points, or None with < 2 points.

    >>> counter_rate([(0, 100), (10, 150), (20, 20)])
    3.5
    """
    if len(points) < 2:
        return None
    span = points[-1][0] - points[0][0]
    if span <= 0:
        return None
    return counter_increase([value for _, value in points]) / span


def delta_rate(before: float, after: float, seconds: float) -> float | None:
    """Return the per-second growth between two readings; None when unknowable.

    >>> delta_rate(1000, 3000, 2)
    1000.0
    >>> delta_rate(5000, 200, 2)
    100.0
    """
    if seconds <= 0:
        return None
    return counter_increase([before, after]) / seconds


def cpu_mode_percent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Return each CPU mode's share (%) of the time between two ``cpu_times`` readings.

    >>> before = {"user": 10, "system": 5, "idle": 85}
    >>> cpu_mode_percent(before, {"user": 30, "system": 10, "idle": 160})
    {'user': 20.0, 'system': 5.0, 'idle': 75.0}
    """
    spent = {mode: max(after[mode] - before.get(mode, 0.0), 0.0) for mode in after}
    total = sum(spent.values())
    if total <= 0:
        return dict.fromkeys(after, 0.0)
    return {mode: 100 * seconds / total for mode, seconds in spent.items()}
