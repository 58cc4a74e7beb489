"""When to restart a crashed service of `vigil up`, and when to give up (pure, time passed in).

A crash is restarted after an exponential backoff; a service that crashes ``max_crashes``
times within ``window_seconds`` is flapping, and `vigil up` gives up instead of looping.
Crashes older than the window are forgotten, so the backoff starts small again.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RestartPolicy:
    """How patiently crashed services are restarted."""

    first_delay_seconds: float = 1.0
    max_delay_seconds: float = 30.0
    max_crashes: int = 5
    window_seconds: float = 60.0


@dataclass(frozen=True)
class Verdict:
    """What to do after a crash: restart after ``delay_seconds``, or give up (``is_give_up``)."""

    is_give_up: bool
    delay_seconds: float
    recent_crashes: tuple[float, ...]
    why: str


def after_crash(policy: RestartPolicy, crashes: tuple[float, ...], *, now: float) -> Verdict:
    """Decide on a crash at ``now``, given the times of this service's earlier crashes."""
    recent = (*(t for t in crashes if now - t < policy.window_seconds), now)
    count = len(recent)
    if count >= policy.max_crashes:
        why = f"crashed {count} times within {policy.window_seconds:g}s"
        return Verdict(is_give_up=True, delay_seconds=0.0, recent_crashes=recent, why=why)
    delay = min(policy.first_delay_seconds * 2 ** (count - 1), policy.max_delay_seconds)
    why = f"crash {count} within {policy.window_seconds:g}s"
    return Verdict(is_give_up=False, delay_seconds=delay, recent_crashes=recent, why=why)
