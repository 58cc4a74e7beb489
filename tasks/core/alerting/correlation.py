"""Did two series move together? Pearson's r of their minute-to-minute changes.

Levels of unrelated series correlate by accident whenever both drift (two busy hosts both
warming up); their changes do not. So each series becomes minute means over the last hour,
then the change from one minute to the next, and r is taken over the minutes both have.
A pair with fewer than ``MIN_CHANGES`` shared changes, or a series that did not change at
all, is not judged (``None``): too little evidence to group alerts on.
"""

import math
from collections.abc import Iterable, Mapping, Sequence

MINUTE_MS = 60_000
THRESHOLD = 0.7  # r of the changes at or above this: moved together (docs/slo.md says why)
MIN_CHANGES = 20  # shared minute-to-minute changes needed to judge a pair
LOOKBACK_S = 3600.0  # the hour before the alert fired


def minute_means(points: Iterable[tuple[int, float]]) -> dict[int, float]:
    """``(ts_ms, value)`` points as ``{minute start ms: mean}``.

    >>> minute_means([(0, 1.0), (30_000, 3.0), (61_000, 5.0)])
    {0: 2.0, 60000: 5.0}
    """
    sums: dict[int, list[float]] = {}
    for ts_ms, value in points:
        bucket = sums.setdefault(ts_ms - ts_ms % MINUTE_MS, [0.0, 0.0])
        bucket[0] += value
        bucket[1] += 1
    return {minute: total / count for minute, (total, count) in sorted(sums.items())}


def changes(means: Mapping[int, float]) -> dict[int, float]:
    """The change into each minute from the minute before (a minute without data breaks it).

    >>> changes({0: 1.0, 60_000: 4.0, 180_000: 5.0})
    {60000: 3.0}
    """
    return {
        minute: value - means[minute - MINUTE_MS]
        for minute, value in means.items()
        if minute - MINUTE_MS in means
    }


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r of two equally long samples; None when either is constant.

    >>> pearson([1, 2, 3, 4], [2, 4, 6, 8]), pearson([1, 2, 3, 4], [4, 3, 2, 1])
    (1.0, -1.0)
    >>> pearson([1, 1, 1], [1, 2, 3]) is None
    True
    """
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    sxx, syy = sum(d * d for d in dx), sum(d * d for d in dy)
    if sxx == 0 or syy == 0:
        return None
    r = sum(a * b for a, b in zip(dx, dy, strict=True)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, round(r, 12)))


def co_movement(
    a: Mapping[int, float], b: Mapping[int, float], *, min_changes: int = MIN_CHANGES
) -> float | None:
    """r of the minute-to-minute changes of two series of minute means (None: not judged).

    >>> up = {i * MINUTE_MS: float(i * i % 7) for i in range(30)}
    >>> co_movement(up, {m: 2 * v + 5 for m, v in up.items()})
    1.0
    >>> co_movement(up, {m: 1.0 for m in up}) is None
    True
    """
    da, db = changes(a), changes(b)
    shared = sorted(da.keys() & db.keys())
    if len(shared) < min_changes:
        return None
    return pearson([da[m] for m in shared], [db[m] for m in shared])


def best_match(
    scores: Iterable[tuple[int, float | None]], *, threshold: float = THRESHOLD
) -> tuple[int, float] | None:
    """The ``(incident id, r)`` with the highest r at or above ``threshold``, or None.

    >>> best_match([(1, 0.85), (2, 0.97), (3, None), (4, 0.5)])
    (2, 0.97)
    >>> best_match([(1, 0.69)]) is None
    True
    """
    judged = [(r, incident) for incident, r in scores if r is not None and r >= threshold]
    if not judged:
        return None
    r, incident = max(judged)
    return incident, r


def watched_labels(alert_labels: Mapping[str, str], series_labels: Mapping[str, str]) -> bool:
    """True when a series with ``series_labels`` is one the alert is about: its labels are
    all among the alert's (an alert adds its rule's labels and severity to the series').

    >>> watched_labels({"host": "a", "severity": "page"}, {"host": "a"})
    True
    >>> watched_labels({"host": "a"}, {"host": "b"})
    False
    """
    return all(alert_labels.get(k) == v for k, v in series_labels.items())
