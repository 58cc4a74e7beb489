"""Comparisons and window aggregates: the arithmetic of rule conditions."""

import itertools
import math
import operator
from collections.abc import Callable, Sequence

COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

Point = tuple[float, float]  # (epoch seconds, value)


def aggregate(kind: str, points: Sequence[Point]) -> float | None:
    """Return the aggregate ``kind`` of ``points`` (oldest first), or None if undefined.

    >>> aggregate("p95", [(t, float(t)) for t in range(1, 101)])
    95.0
    >>> aggregate("rate", [(0, 10.0), (10, 30.0), (20, 5.0)])  # reset at t=20
    1.25
    """
    if not points:
        return None
    values = [v for _, v in points]
    if kind == "last":
        return values[-1]
    if kind == "avg":
        return math.fsum(values) / len(values)
    if kind == "min":
        return min(values)
    if kind == "max":
        return max(values)
    if kind == "p95":
        return _percentile(values, 0.95)
    if kind == "rate":
        return _counter_rate(points)
    raise ValueError(f"unknown aggregate {kind!r}")


def holds(op: str, clear: float, value: float) -> bool:
    """True while an active alert stays active: ``value`` is not yet back past ``clear``.

    Hysteresis: a rule ``> 80`` with ``clear: 75`` fires above 80 and clears only below 75,
    so a value hovering at 80 does not flap.

    >>> holds(">", 75, 79), holds(">", 75, 74.9), holds("<", 10, 12)
    (True, False, False)
    """
    return value >= clear if op in (">", ">=") else value <= clear


def slope(points: Sequence[Point], per_seconds: float = 1.0) -> float | None:
    """Return the change per ``per_seconds`` between the first and last point, or None.

    >>> slope([(0, 1.0), (30, 2.0), (60, 4.0)], per_seconds=60)
    3.0
    """
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    (t0, v0), (t1, v1) = points[0], points[-1]
    return (v1 - v0) / (t1 - t0) * per_seconds


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation, like most monitoring tools)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _counter_rate(points: Sequence[Point]) -> float | None:
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    increase = 0.0
    for (_, before), (_, after) in itertools.pairwise(points):
        increase += after - before if after >= before else after  # a reset restarts at 0
    return increase / (points[-1][0] - points[0][0])
