"""Good and total amounts over any window, answered in O(log n) from cumulative sums.

A check's results become good time (up) and bad time (down, unreachable), each result
holding until the next; counters become good and total events. Either way a window's
``Tally`` is the difference of two cumulative readings, so the many windows of burn-rate
alerts and of a burn-down chart cost one pass over the data.
"""

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import Protocol

GOOD_STATES = frozenset({"up"})
BAD_STATES = frozenset({"down", "unreachable"})  # unknown and late say nothing: not counted


@dataclass(frozen=True)
class Tally:
    """Good and total amounts (seconds or events) within one window."""

    good: float
    total: float

    @property
    def bad(self) -> float:
        """What was not good."""
        return self.total - self.good

    @property
    def error_ratio(self) -> float:
        """Bad over total (0 when nothing was counted).

        >>> Tally(good=990, total=1000).error_ratio
        0.01
        """
        return self.bad / self.total if self.total > 0 else 0.0


class Timeline(Protocol):
    """Anything that tallies a window ``[start, end)`` given in epoch seconds."""

    is_time_based: bool

    def tally(self, start: float, end: float) -> Tally: ...


class StateTimeline:
    """A check's time in good and bad states; each result holds until the next one.

    >>> line = StateTimeline([(0, "up"), (60, "down"), (90, "up")], end=120)
    >>> line.tally(0, 120)
    Tally(good=90.0, total=120.0)
    >>> line.tally(75, 105)
    Tally(good=15.0, total=30.0)
    """

    is_time_based = True

    def __init__(self, results: Iterable[tuple[float, str]], *, end: float) -> None:
        ordered = sorted(results)
        self.starts = [at for at, _ in ordered]
        self.ends = [*self.starts[1:], max(end, self.starts[-1])] if ordered else []
        self.good_rate = [1.0 if s in GOOD_STATES else 0.0 for _, s in ordered]
        self.count_rate = [1.0 if s in GOOD_STATES | BAD_STATES else 0.0 for _, s in ordered]
        lengths = [e - s for s, e in zip(self.starts, self.ends, strict=True)]
        self.cum_good = [
            0.0,
            *accumulate(r * n for r, n in zip(self.good_rate, lengths, strict=True)),
        ]
        self.cum_count = [
            0.0,
            *accumulate(r * n for r, n in zip(self.count_rate, lengths, strict=True)),
        ]

    def _reading(self, at: float) -> tuple[float, float]:
        index = bisect_right(self.starts, at) - 1
        if index < 0:
            return 0.0, 0.0
        inside = min(at, self.ends[index]) - self.starts[index]
        return (
            self.cum_good[index] + self.good_rate[index] * inside,
            self.cum_count[index] + self.count_rate[index] * inside,
        )

    def tally(self, start: float, end: float) -> Tally:
        """Good and counted seconds within ``[start, end)``."""
        good_0, total_0 = self._reading(start)
        good_1, total_1 = self._reading(end)
        return Tally(good_1 - good_0, total_1 - total_0)


class CounterTimeline:
    """Good and total events from counter series; a drop is a restart from zero.

    Each series is a sequence of ``(ts, value)``; an increase is dated at the sample that
    shows it.

    >>> good = [[(0, 0), (60, 95), (120, 190)]]
    >>> total = [[(0, 0), (60, 100), (120, 200)]]
    >>> CounterTimeline(good, total).tally(60, 120)
    Tally(good=95.0, total=100.0)
    """

    is_time_based = False

    def __init__(
        self,
        good: Iterable[Sequence[tuple[float, float]]],
        total: Iterable[Sequence[tuple[float, float]]],
    ) -> None:
        self.good = [_Increases(points) for points in good]
        self.total = [_Increases(points) for points in total]

    def tally(self, start: float, end: float) -> Tally:
        """Good and total events dated within ``(start, end]``."""
        return Tally(
            sum(line.between(start, end) for line in self.good),
            sum(line.between(start, end) for line in self.total),
        )


class _Increases:
    """One counter's cumulative increase at each of its samples."""

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        ordered = sorted(points)
        self.times = [ts for ts, _ in ordered]
        steps = [new - old if new >= old else new for (_, old), (_, new) in pairwise(ordered)]
        self.cum = [0.0, *accumulate(float(s) for s in steps)]

    def _reading(self, at: float) -> float:
        index = bisect_right(self.times, at) - 1
        return self.cum[index] if index >= 0 else 0.0

    def between(self, start: float, end: float) -> float:
        return self._reading(end) - self._reading(start)
