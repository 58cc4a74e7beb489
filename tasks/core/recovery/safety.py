"""The safety gate: may a procedure run on a target now, and what a finished run does to it."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class GuardState:
    """Safety state of one procedure on one target."""

    consecutive_failures: int = 0
    is_disabled: bool = False
    last_finished_at: datetime | None = None


@dataclass(frozen=True)
class Policy:
    """The limits a procedure declares."""

    max_runs: int
    window: timedelta
    cooldown: timedelta
    disable_after_failures: int


def refusal(
    policy: Policy, guard: GuardState, recent_requests: list[datetime], *, now: datetime
) -> str | None:
    """Return why a run may not start now, or None when it may.

    ``recent_requests`` are the request times of earlier admitted runs (any age).

    >>> from datetime import UTC
    >>> p = Policy(max_runs=2, window=timedelta(hours=1), cooldown=timedelta(0),
    ...            disable_after_failures=3)
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> refusal(p, GuardState(), [t, t + timedelta(minutes=1)], now=t + timedelta(minutes=2))
    'rate limit: 2 runs in the last 1:00:00 (max 2)'
    >>> refusal(p, GuardState(), [t, t], now=t + timedelta(hours=1, seconds=1)) is None
    True
    """
    if guard.is_disabled:
        return (
            f"disabled after {guard.consecutive_failures} consecutive failures; "
            "re-enable with `vigil recovery enable`"
        )
    if guard.last_finished_at is not None and now < guard.last_finished_at + policy.cooldown:
        left = guard.last_finished_at + policy.cooldown - now
        return f"cooldown: last run finished {now - guard.last_finished_at} ago, {left} left"
    in_window = [t for t in recent_requests if t > now - policy.window]
    if len(in_window) >= policy.max_runs:
        return (
            f"rate limit: {len(in_window)} runs in the last {policy.window} (max {policy.max_runs})"
        )
    return None


def after_run(policy: Policy, guard: GuardState, *, succeeded: bool, now: datetime) -> GuardState:
    """Return the guard after a run that acted: count failures, disable at the limit.

    >>> from datetime import UTC
    >>> p = Policy(3, timedelta(hours=1), timedelta(0), disable_after_failures=2)
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> after_run(p, GuardState(consecutive_failures=1), succeeded=False, now=t).is_disabled
    True
    """
    if succeeded:
        return GuardState(consecutive_failures=0, is_disabled=False, last_finished_at=now)
    failures = guard.consecutive_failures + 1
    return GuardState(
        consecutive_failures=failures,
        is_disabled=guard.is_disabled or failures >= policy.disable_after_failures,
        last_finished_at=now,
    )


@dataclass(frozen=True)
class Holder:
    """A recovery run in progress on a target (admitted, queued, awaiting approval or running)."""

    run_id: int
    procedure: str
    state: str


def superseding(procedure: str, holders: list[Holder]) -> Holder | None:
    """Return the run in progress that makes a new run of ``procedure`` redundant, if any.

    A run of the same procedure on the same target already covers the trigger; a run of
    another procedure does not, so the new run queues behind it instead of being dropped.

    >>> superseding("restart", [Holder(4, "flush-cache", "awaiting_approval")]) is None
    True
    >>> superseding("restart", [Holder(4, "flush", "running"), Holder(5, "restart", "queued")])
    Holder(run_id=5, procedure='restart', state='queued')
    """
    return next((h for h in holders if h.procedure == procedure), None)
