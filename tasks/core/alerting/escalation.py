"""Escalation: after N minutes firing unacknowledged, notify the next level's channels."""

from collections.abc import Sequence


def reached_level(
    afters_s: Sequence[float],
    *,
    fired_at: float,
    current_level: int,
    is_acknowledged: bool,
    now: float,
) -> int:
    """Return the escalation level (1-based count of levels reached) at ``now``.

    An acknowledged alert stays where it is; levels never go back.

    >>> reached_level([900, 1800], fired_at=0, current_level=0, is_acknowledged=False, now=1000)
    1
    >>> reached_level([900, 1800], fired_at=0, current_level=1, is_acknowledged=True, now=9999)
    1
    """
    if is_acknowledged:
        return current_level
    reached = sum(1 for after in afters_s if now - fired_at >= after)
    return max(current_level, reached)
