"""Nagios-like flap detection over the state changes of a window, with high/low hysteresis."""

from collections.abc import Sequence


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
