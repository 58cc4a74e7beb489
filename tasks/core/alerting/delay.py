"""Notification delay: a state is told only once it has held for the rule's delay."""

from tasks.core.alerting.lifecycle import AlertState, Lifecycle


def is_delayed(
    lifecycle: Lifecycle, *, firing_s: float, resolved_s: float, was_told: bool, now: float
) -> bool:
    """True while the news of an alert waits: it fired less than ``firing_s`` ago, resolved
    less than ``resolved_s`` ago, or is pending again before its resolve was told.

    >>> firing = Lifecycle(AlertState.FIRING, active_since=0, fired_at=0)
    >>> [is_delayed(firing, firing_s=120, resolved_s=0, was_told=False, now=t) for t in (60, 120)]
    [True, False]
    >>> again = Lifecycle(AlertState.PENDING, active_since=200)
    >>> is_delayed(again, firing_s=0, resolved_s=300, was_told=True, now=210)
    True
    """
    state = lifecycle.state
    if state is AlertState.FIRING:
        return _younger(lifecycle.fired_at, firing_s, now)
    if state is AlertState.RESOLVED:
        return _younger(lifecycle.resolved_at, resolved_s, now)
    return state is AlertState.PENDING and resolved_s > 0 and was_told


def _younger(since: float | None, delay_s: float, now: float) -> bool:
    """True while ``since`` is less than ``delay_s`` ago; never without a delay.

    The store keeps microseconds, so an instant read back may lie a hair after ``now``:

    >>> _younger(10.000001, 0.0, 10.0)
    False
    """
    return delay_s > 0 and since is not None and now - since < delay_s
