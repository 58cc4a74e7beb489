"""Remediate, verify, then escalate: the per-alert state machine (Monit's restart limit).

When a rule with ``remediate:`` fires, its recovery runs first and the page is held until
the fix is verified (nothing pages) or fails (the page goes out once). After ``attempts``
recoveries within ``window`` Vigil gives up: no more recoveries, the alert pages at once,
until ``reset_after_healthy`` consecutive healthy cycles clear the count. A cycle is one
fresh judgement of the verifying evidence: a run of the ``verify_with`` check, or an
evaluation of the rule itself.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Phase(StrEnum):
    """Where the remediation of one alert is."""

    IDLE = "idle"  # nothing in flight; earlier attempts may still count in the window
    VERIFYING = "verifying"  # a recovery was launched; the page waits for its verdict
    FIXED = "fixed"  # verified healthy in time: this firing episode stays quiet
    FAILED = "failed"  # not verified in time, the run failed or was refused: it pages
    GIVEN_UP = "given_up"  # too many attempts in the window: page, launch nothing


class Verdict(StrEnum):
    """What one step of the machine concluded (recorded in the audit log)."""

    FIXED = "fixed"  # the evidence turned healthy before the deadline
    FAILED = "failed"  # the deadline passed, or the run ended badly
    REGRESSED = "regressed"  # it was fixed, and turned unhealthy again
    RESET = "reset"  # enough healthy cycles: the attempt count starts again


@dataclass(frozen=True)
class Policy:
    """A rule's ``remediate:`` settings, in seconds."""

    attempts: int = 3
    window_s: float = 3600.0
    verify_within_s: float = 120.0
    reset_after_healthy: int = 5
    holds_page: bool = True  # ``first:``: the page waits for the verdict


@dataclass(frozen=True)
class Remediation:
    """The remediation state of one alert (epoch seconds)."""

    phase: Phase = Phase.IDLE
    attempts: tuple[float, ...] = ()  # when recent recoveries were launched
    healthy_cycles: int = 0  # consecutive healthy cycles
    episode: float | None = None  # fired_at of the firing episode it acts on
    deadline: float | None = None  # VERIFYING: the verdict is due by then


def on_firing(
    policy: Policy, state: Remediation, *, fired_at: float, now: float
) -> tuple[Remediation, bool]:
    """Start an attempt for a new firing episode; return the state and whether to launch.

    >>> p = Policy(attempts=2, window_s=3600, verify_within_s=120)
    >>> s, go = on_firing(p, Remediation(), fired_at=0, now=0)
    >>> s.phase, s.deadline, go
    (<Phase.VERIFYING: 'verifying'>, 120, True)
    >>> s, go = on_firing(p, Remediation(attempts=(0, 60)), fired_at=90, now=90)
    >>> s.phase, go
    (<Phase.GIVEN_UP: 'given_up'>, False)
    """
    recent = tuple(t for t in state.attempts if t > now - policy.window_s)
    if state.phase is Phase.GIVEN_UP or len(recent) >= policy.attempts:
        return Remediation(Phase.GIVEN_UP, recent, 0, fired_at, None), False
    deadline = now + policy.verify_within_s
    return Remediation(Phase.VERIFYING, (*recent, now), 0, fired_at, deadline), True


def launch_refused(state: Remediation) -> Remediation:
    """Nothing was launched (the safety gate said no): not an attempt, and it pages."""
    return replace(state, phase=Phase.FAILED, attempts=state.attempts[:-1], deadline=None)


def run_failed(state: Remediation) -> tuple[Remediation, Verdict | None]:
    """The launched run ended failed or rejected: verification fails now, not at the deadline."""
    if state.phase is not Phase.VERIFYING:
        return state, None
    return replace(state, phase=Phase.FAILED, deadline=None), Verdict.FAILED


def tick(state: Remediation, *, now: float) -> tuple[Remediation, Verdict | None]:
    """Fail a verification whose deadline has passed.

    >>> tick(Remediation(Phase.VERIFYING, (0,), 0, 0, 120), now=120)[1]
    <Verdict.FAILED: 'failed'>
    """
    if state.phase is Phase.VERIFYING and state.deadline is not None and now >= state.deadline:
        return replace(state, phase=Phase.FAILED, deadline=None), Verdict.FAILED
    return state, None


def on_cycle(
    policy: Policy, state: Remediation, *, is_healthy: bool, now: float
) -> tuple[Remediation, Verdict | None]:
    """Count one cycle of evidence: verify, notice a regression, or reset the count.

    >>> p = Policy(reset_after_healthy=2)
    >>> s = Remediation(Phase.VERIFYING, (0,), 0, 0, 120)
    >>> s, v = on_cycle(p, s, is_healthy=True, now=30)
    >>> s.phase, v
    (<Phase.FIXED: 'fixed'>, <Verdict.FIXED: 'fixed'>)
    >>> s, v = on_cycle(p, s, is_healthy=True, now=60)
    >>> s.phase, s.attempts, v
    (<Phase.IDLE: 'idle'>, (), <Verdict.RESET: 'reset'>)
    """
    state, verdict = tick(state, now=now)
    if verdict is not None:
        return state, verdict
    if not is_healthy:
        if state.phase is Phase.FIXED:
            return replace(state, phase=Phase.FAILED, healthy_cycles=0), Verdict.REGRESSED
        return replace(state, healthy_cycles=0), None
    if state.phase is Phase.VERIFYING:
        return replace(state, phase=Phase.FIXED, healthy_cycles=1, deadline=None), Verdict.FIXED
    cycles = state.healthy_cycles + 1
    if cycles >= policy.reset_after_healthy and (state.attempts or state.phase is Phase.GIVEN_UP):
        return Remediation(Phase.IDLE, (), cycles, state.episode, None), Verdict.RESET
    return replace(state, healthy_cycles=cycles), None


def muting(policy: Policy, state: Remediation, *, fired_at: float | None, now: float) -> str | None:
    """Return "held" (the page waits), "quiet" (fixed: nothing pages) or None for an alert.

    Only the episode being remediated is affected (a later firing starts afresh), and only
    when the policy holds the page (``first: true``).

    >>> s = Remediation(Phase.VERIFYING, (0,), 0, 5.0, 125.0)
    >>> muting(Policy(), s, fired_at=5.0, now=60), muting(Policy(), s, fired_at=5.0, now=125)
    ('held', None)
    """
    if not policy.holds_page or not is_episode(state, fired_at):
        return None
    if state.phase is Phase.FIXED:
        return "quiet"
    is_waiting = state.phase is Phase.VERIFYING and now < (state.deadline or 0.0)
    return "held" if is_waiting else None


def is_episode(state: Remediation, fired_at: float | None) -> bool:
    """True when ``fired_at`` is the episode being remediated (stored instants: to 1 ms)."""
    if fired_at is None or state.episode is None:
        return False
    return abs(state.episode - fired_at) < 1e-3


def fixed_note(
    labels: Mapping[str, str], procedures: Sequence[str], *, fired_at: float, now: float
) -> tuple[str, str]:
    """Return (title, body) of the low-priority "fixed automatically" note.

    >>> fixed_note({"alertname": "WebDown", "target": "web-1"}, ["restart-web"],
    ...            fired_at=0, now=42)[0]
    '[FIXED automatically] WebDown on web-1'
    """
    name, target = labels.get("alertname", "?"), labels.get("target", "?")
    title = f"[FIXED automatically] {name} on {target}"
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    body = (
        f"{name} fired on {target}; Vigil ran {', '.join(procedures)} and the fix was "
        f"verified {now - fired_at:.0f} s later. Nobody was paged.\n  labels: {shown}"
    )
    return title, body
