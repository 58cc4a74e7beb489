"""Nagios-like flap detection over the state changes of a window, with high/low hysteresis."""

from collections.abc import Hashable, Iterable, Sequence
from typing import NamedTuple


class FlapParams(NamedTuple):
    """The flap settings in seconds (``alerting.flapping`` in vigil.yaml)."""

    window_s: float = 1800.0
    high: float = 50.0  # start flapping at this percent
    low: float = 25.0  # stop flapping below this percent
    max_changes: int = 10  # changes spread over the window that make 100 %


def flap_percent(changes: Sequence[float], *, now: float, window_s: float, max_changes: int):
    """Return the weighted state change in percent over the window (newer changes weigh more).

    Like Nagios, weights grow from 0.8 (oldest) to 1.2 (newest); ``max_changes`` changes
    spread evenly over the window make 100 %.

    >>> flap_percent([0, 50, 100], now=100, window_s=100, max_changes=3)
    100.0
    """
    start = now - window_s
    weights = [0.8 + 0.4 * (t - start) / window_s for t in changes if start <= t <= now]
    return round(100.0 * sum(weights) / max_changes, 6)


def next_flapping(is_flapping: bool, percent: float, *, high: float, low: float) -> bool:
    """Start flapping at ``high`` percent or more; stop only below ``low``.

    >>> next_flapping(True, 30.0, high=50, low=25), next_flapping(False, 30.0, high=50, low=25)
    (True, False)
    """
    return percent >= low if is_flapping else percent >= high


def recent(changes: Sequence[float], *, now: float, window_s: float) -> list[float]:
    """Keep the changes still inside the window."""
    return [t for t in changes if t >= now - window_s]


def observe(
    changes: Sequence[float], is_flapping: bool, *, at: float, changed: bool, flap: FlapParams
) -> tuple[list[float], bool]:
    """Judge one observation at ``at``: keep its change (if ``changed``), then say whether it flaps.

    Returns the changes still in the window and the new flapping flag.
    """
    kept = recent([*changes, at], now=at, window_s=flap.window_s) if changed else list(changes)
    percent = flap_percent(kept, now=at, window_s=flap.window_s, max_changes=flap.max_changes)
    return kept, next_flapping(is_flapping, percent, high=flap.high, low=flap.low)


def replay(
    timeline: Iterable[tuple[float, Hashable]], flap: FlapParams
) -> tuple[list[float], bool]:
    """Judge a ``(time, state)`` timeline, oldest first, as the engine judges a check's.

    Returns the state changes still in the window at the last point and whether it flaps then.

    >>> ups_and_downs = [(60.0 * i, i % 2) for i in range(10)]
    >>> changes, is_flapping = replay(ups_and_downs, FlapParams())
    >>> len(changes), is_flapping
    (9, True)
    >>> replay([(0.0, "up"), (60.0, "up")], FlapParams())
    ([], False)
    """
    changes: list[float] = []
    is_flapping, last = False, None
    for at, state in timeline:
        changed = last is not None and state != last
        changes, is_flapping = observe(changes, is_flapping, at=at, changed=changed, flap=flap)
        last = state
    return changes, is_flapping
