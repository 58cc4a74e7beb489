"""The alert state machine: inactive → pending → firing → resolved, with keep-firing-for."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from models.vocabulary.labels import canonical_labels


class AlertState(StrEnum):
    """Where an alert is in its life."""

    INACTIVE = "inactive"  # the condition does not hold (or held too briefly)
    PENDING = "pending"  # the condition holds, but not yet for the rule's `for:`
    FIRING = "firing"  # the condition held for `for:`; people are told
    RESOLVED = "resolved"  # it fired, and the condition cleared (plus keep_firing_for)


@dataclass(frozen=True)
class Lifecycle:
    """An alert's state and the instants (epoch seconds) that drive its next transition."""

    state: AlertState = AlertState.INACTIVE
    active_since: float | None = None  # the condition holds since
    fired_at: float | None = None
    cleared_at: float | None = None  # firing, but the condition is clear since
    resolved_at: float | None = None

    @property
    def is_breaching(self) -> bool:
        """What the last observation said (implied by the state)."""
        return self.state is AlertState.PENDING or (
            self.state is AlertState.FIRING and self.cleared_at is None
        )


def next_lifecycle(
    current: Lifecycle, is_breaching: bool, *, now: float, for_s: float, keep_firing_for_s: float
) -> Lifecycle:
    """Return the lifecycle after observing ``is_breaching`` at ``now``.

    >>> s = next_lifecycle(Lifecycle(), True, now=0, for_s=60, keep_firing_for_s=0)
    >>> s.state, next_lifecycle(s, True, now=60, for_s=60, keep_firing_for_s=0).state
    (<AlertState.PENDING: 'pending'>, <AlertState.FIRING: 'firing'>)
    """
    state = current.state
    if state in (AlertState.INACTIVE, AlertState.RESOLVED):
        if not is_breaching:
            return current
        started = Lifecycle(AlertState.PENDING, active_since=now)
        return _fire(started, now) if for_s <= 0 else started
    if state is AlertState.PENDING:
        if not is_breaching:
            return Lifecycle(AlertState.INACTIVE)
        assert current.active_since is not None
        return _fire(current, now) if now - current.active_since >= for_s else current
    if is_breaching:
        return replace(current, cleared_at=None) if current.cleared_at is not None else current
    cleared_at = current.cleared_at if current.cleared_at is not None else now
    if now - cleared_at >= keep_firing_for_s:
        return replace(current, state=AlertState.RESOLVED, cleared_at=None, resolved_at=now)
    return replace(current, cleared_at=cleared_at)


def tick(current: Lifecycle, *, now: float, for_s: float, keep_firing_for_s: float) -> Lifecycle:
    """Advance time-driven transitions (pending expiry, keep-firing-for) with no new data."""
    return next_lifecycle(
        current, current.is_breaching, now=now, for_s=for_s, keep_firing_for_s=keep_firing_for_s
    )


def _fire(current: Lifecycle, now: float) -> Lifecycle:
    return replace(current, state=AlertState.FIRING, fired_at=now, resolved_at=None)


def fingerprint(labels: Mapping[str, str]) -> str:
    """Return the alert's identity: a hash of its label set (order does not matter).

    >>> fingerprint({"a": "1", "b": "2"}) == fingerprint({"b": "2", "a": "1"})
    True
    """
    return hashlib.sha256(canonical_labels(labels).encode()).hexdigest()[:16]
