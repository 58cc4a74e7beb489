"""Functions of one series' samples in one window: rate, irate, increase, ``*_over_time``.

Each takes the window's timestamps and values (ascending, epoch seconds) and returns a
value, or None when the window holds too few samples. ``rate`` and ``increase`` follow
Prometheus' extrapolation (``extrapolatedRate`` in promql/functions.go): counter resets
are added back, and the result is extrapolated towards the window's edges.
"""

import math

import numpy as np


def extrapolated_delta(
    ts: np.ndarray, values: np.ndarray, start: float, end: float, *, is_rate: bool
) -> float | None:
    """Return the counter's increase over ``(start, end]`` (per second when ``is_rate``).

    >>> ts, v = np.array([10.0, 20, 30, 40, 50, 60]), np.array([0.0, 10, 20, 5, 15, 25])
    >>> extrapolated_delta(ts, v, 0.0, 60.0, is_rate=False)  # 25 - 0, plus 20 before the reset
    45.0
    """
    if len(ts) < 2:
        return None
    resets = values[1:] < values[:-1]
    delta = float(values[-1] - values[0] + values[:-1][resets].sum())
    sampled = float(ts[-1] - ts[0])
    average_gap = sampled / (len(ts) - 1)
    to_start, to_end = float(ts[0] - start), float(end - ts[-1])
    if delta > 0 and values[0] >= 0:
        # a counter does not go below zero: do not extrapolate past the point it was zero
        to_start = min(to_start, sampled * (float(values[0]) / delta))
    threshold = average_gap * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average_gap / 2
    interval += to_end if to_end < threshold else average_gap / 2
    delta *= interval / sampled
    return delta / (end - start) if is_rate else delta


def instant_rate(ts: np.ndarray, values: np.ndarray) -> float | None:
    """Return the per-second rate between the window's last two samples (``irate``).

    >>> instant_rate(np.array([0.0, 10, 20]), np.array([5.0, 9, 3]))
    0.3
    """
    if len(ts) < 2:
        return None
    last, previous = float(values[-1]), float(values[-2])
    gap = float(ts[-1] - ts[-2])
    change = last if last < previous else last - previous  # a reset: the counter restarted
    return change / gap if gap > 0 else None


def over_time(name: str, values: np.ndarray, param: float | None = None) -> float | None:
    """Return ``<name>_over_time`` of the window's values (None for an empty window).

    >>> over_time("avg_over_time", np.array([1.0, 2.0, 6.0]))
    3.0
    """
    if len(values) == 0:
        return None
    kind = name.removesuffix("_over_time")
    if kind == "quantile":
        assert param is not None
        if param < 0 or param > 1:
            return math.inf if param > 1 else -math.inf
        return float(np.quantile(values, param))
    reducers = {
        "avg": np.mean,
        "min": np.min,
        "max": np.max,
        "sum": np.sum,
        "count": len,
        "last": lambda v: v[-1],
        "present": lambda v: 1.0,
        "stddev": np.std,
        "stdvar": np.var,
    }
    return float(reducers[kind](values))  # type: ignore[operator]
