"""Soft and hard check states, like Nagios: DOWN only after N failed runs, UP after M passes.

Pure functions over plain data; the caller passes ``now`` and the run's outcome.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from tasks.core.checks.state import CheckStatus

MIN_START_DEADLINE_S = 1.0


@dataclass(frozen=True)
class Outcome:
    """What one run of a check observed (after its retries)."""

    is_passing: bool
    message: str = ""
    latency_ms: float | None = None
    tries: int = 1
    is_late: bool = False  # not probed: Vigil could not start it on time (not the target's fault)


@dataclass(frozen=True)
class CheckState:
    """A check's state between runs; what is persisted per check.

    ``failures``/``passes`` count consecutive failed/passing runs; ``attempt`` is the
    Nagios attempt number shown with a failure (1..max_attempts).
    """

    status: CheckStatus = CheckStatus.UNKNOWN
    is_hard: bool = False
    failures: int = 0
    passes: int = 0
    since: datetime | None = None  # when the status (or its hardness) last changed
    checked_at: datetime | None = None  # when the check last ran (or was paused)

    @property
    def attempt(self) -> int:
        """The attempt number of the current failure streak (0 when passing)."""
        return self.failures


@dataclass(frozen=True)
class Rules:
    """The state rules of one check."""

    max_attempts: int = 3
    recover_after: int = 1


def next_state(state: CheckState, outcome: Outcome, rules: Rules, *, now: datetime) -> CheckState:
    """Return the state after one run.

    A failure is a soft DOWN until ``max_attempts`` consecutive failures make it hard.
    A hard DOWN needs ``recover_after`` consecutive passes to become UP (it stays DOWN,
    hard, while it recovers, so alerts do not flap); a soft DOWN recovers at once.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> s = next_state(CheckState(), Outcome(False), Rules(max_attempts=2), now=t)
    >>> (s.status.value, s.is_hard, s.attempt)
    ('down', False, 1)
    >>> s = next_state(s, Outcome(False), Rules(max_attempts=2), now=t)
    >>> (s.status.value, s.is_hard, s.attempt)
    ('down', True, 2)
    """
    if not outcome.is_passing:
        failures = state.failures + 1
        is_hard = failures >= rules.max_attempts
        return _moved(state, CheckStatus.DOWN, is_hard, failures, 0, now)
    passes = state.passes + 1
    if state.status is CheckStatus.DOWN and state.is_hard and passes < rules.recover_after:
        return replace(state, passes=passes, checked_at=now)
    return _moved(state, CheckStatus.UP, True, 0, passes, now)


def late(state: CheckState, *, now: datetime) -> CheckState:
    """Return the state after a run Vigil could not start on time: unchanged, but rescheduled.

    Its status and streaks stay as they were (the target was not asked); only
    ``checked_at`` moves, so the check is due again one interval later.
    """
    return replace(state, checked_at=now)


def start_deadline_s(interval_s: float, timeout_s: float) -> float:
    """Return how long a run may wait to start before it is late rather than probed.

    Its timeout, but no more than its interval (the next run would be due) and no
    less than a second (scheduling jitter is not lateness).

    >>> start_deadline_s(60, 10), start_deadline_s(1, 5), start_deadline_s(30, 0.2)
    (10.0, 1.0, 1.0)
    """
    return float(max(MIN_START_DEADLINE_S, min(interval_s, timeout_s)))


def unreachable(state: CheckState, parent: CheckState, *, now: datetime) -> CheckState:
    """Return the state of a failing check whose parent is down: UNREACHABLE, not alerted.

    It is hard when the parent's state is hard; the check's own streaks restart.
    """
    return _moved(state, CheckStatus.UNREACHABLE, parent.is_hard, 0, 0, now)


def paused(state: CheckState, *, now: datetime) -> CheckState:
    """Return the state of a check in a maintenance window: UNKNOWN, streaks restart."""
    return _moved(state, CheckStatus.UNKNOWN, False, 0, 0, now)


def down_parent(
    parents: list[str], states: Mapping[str, CheckState]
) -> tuple[str, CheckState] | None:
    """Return the first parent that is DOWN or UNREACHABLE, or None when all are usable."""
    for name in parents:
        state = states.get(name)
        if state is not None and state.status in (CheckStatus.DOWN, CheckStatus.UNREACHABLE):
            return name, state
    return None


def _moved(
    state: CheckState, status: CheckStatus, is_hard: bool, failures: int, passes: int, now: datetime
) -> CheckState:
    since = state.since if (state.status, state.is_hard) == (status, is_hard) else now
    return CheckState(status, is_hard, failures, passes, since, now)
