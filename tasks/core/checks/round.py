"""One round of checks: which are due, and the states and reports their outcomes lead to."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tasks.core.checks.machine import (
    CheckState,
    Outcome,
    Rules,
    down_parent,
    late,
    next_state,
    paused,
    unreachable,
)
from tasks.core.checks.state import CheckReport, CheckStatus


@dataclass(frozen=True)
class CheckSpec:
    """What the round logic needs to know about one configured check."""

    name: str
    target: str
    interval_s: float
    component: str = ""
    rules: Rules = field(default_factory=Rules)
    depends_on: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolved:
    """A check's new state after this round, the outcome behind it and its report."""

    spec: CheckSpec
    state: CheckState
    outcome: Outcome
    report: CheckReport


def due(specs: Sequence[CheckSpec], states: Mapping[str, CheckState], now: datetime) -> list[str]:
    """Return the names of checks whose interval has passed since they last ran.

    >>> from datetime import UTC, timedelta
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> specs = [CheckSpec("a", "web", 60), CheckSpec("b", "web", 10)]
    >>> due(specs, {"a": CheckState(checked_at=t), "b": CheckState(checked_at=t)},
    ...     t + timedelta(seconds=30))
    ['b']
    """
    out = []
    for spec in specs:
        last = states.get(spec.name, CheckState()).checked_at
        if last is None or (now - last).total_seconds() >= spec.interval_s:
            out.append(spec.name)
    return out


def seconds_until_due(
    specs: Sequence[CheckSpec], states: Mapping[str, CheckState], now: datetime
) -> float:
    """Return how long until the next check is due (0 when one is due now)."""
    waits = [0.0]
    for spec in specs:
        last = states.get(spec.name, CheckState()).checked_at
        if last is None:
            return 0.0
        waits.append(spec.interval_s - (now - last).total_seconds())
    return max(0.0, min(waits[1:], default=0.0))


def dependency_order(specs: Sequence[CheckSpec]) -> list[CheckSpec]:
    """Return specs with every parent before its children (config forbids cycles)."""
    by_name = {s.name: s for s in specs}
    ordered: list[CheckSpec] = []
    seen: set[str] = set()

    def place(spec: CheckSpec) -> None:
        if spec.name in seen:
            return
        seen.add(spec.name)
        for parent in spec.depends_on:
            if parent in by_name:
                place(by_name[parent])
        ordered.append(spec)

    for spec in specs:
        place(spec)
    return ordered


def resolve(
    specs: Sequence[CheckSpec],
    states: Mapping[str, CheckState],
    outcomes: Mapping[str, Outcome],
    *,
    maintenance: Mapping[str, str],
    now: datetime,
) -> list[Resolved]:
    """Apply this round's outcomes in dependency order.

    Args:
        specs: every configured check.
        states: the states before this round (missing: never run).
        outcomes: results of the checks that ran this round.
        maintenance: checks paused this round -> the maintenance window's name.
        now: the round's clock.

    Returns:
        One entry per check that ran, was late or was paused. A failing check whose
        parent is DOWN or UNREACHABLE (as of this round) becomes UNREACHABLE; a late
        one keeps its state and reports LATE.
    """
    current = dict(states)
    out = []
    for spec in dependency_order(specs):
        before = current.get(spec.name, CheckState())
        if spec.name in maintenance:
            outcome = Outcome(
                True, f"paused by maintenance window {maintenance[spec.name]!r}", tries=0
            )
            state = paused(before, now=now)
        elif spec.name in outcomes and outcomes[spec.name].is_late:
            outcome = outcomes[spec.name]
            state = late(before, now=now)
        elif spec.name in outcomes:
            outcome = outcomes[spec.name]
            parent = None if outcome.is_passing else down_parent(list(spec.depends_on), current)
            if parent:
                state = unreachable(before, parent[1], now=now)
                outcome = Outcome(
                    False,
                    f"parent {parent[0]} is down: {outcome.message}",
                    outcome.latency_ms,
                    outcome.tries,
                )
            else:
                state = next_state(before, outcome, spec.rules, now=now)
        else:
            continue
        current[spec.name] = state
        out.append(Resolved(spec, state, outcome, _report(spec, state, outcome, now)))
    return out


def _report(spec: CheckSpec, state: CheckState, outcome: Outcome, now: datetime) -> CheckReport:
    message = outcome.message
    if outcome.is_late:
        return CheckReport(
            spec.name, spec.target, CheckStatus.LATE, False, now, message, None, dict(spec.labels)
        )
    if state.status is CheckStatus.DOWN and not state.is_hard:
        message = f"soft failure {state.attempt}/{spec.rules.max_attempts}: {message}"
    elif state.status is CheckStatus.DOWN and outcome.is_passing:
        message = f"passing {state.passes}/{spec.rules.recover_after} toward recovery: {message}"
    return CheckReport(
        check=spec.name,
        target=spec.target,
        status=state.status,
        is_hard=state.is_hard,
        at=now,
        message=message,
        latency_ms=outcome.latency_ms,
        labels=dict(spec.labels),
    )
