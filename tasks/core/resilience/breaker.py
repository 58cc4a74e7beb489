"""A circuit breaker around one outbound callee (a notification channel, a scrape target, a
recovery HTTP step): closed → open after N consecutive failures, a half-open probe after a
cool-down, closed again on the probe's success. Time is passed in.

While open, the callee is not called at all: a channel's notices wait in the outbox, a scrape
target is skipped (``up`` 0), a recovery step fails at once; nothing else waits on its timeouts.
"""

from dataclasses import dataclass, replace
from enum import StrEnum


class BreakerState(StrEnum):
    """Whether the callee is called."""

    CLOSED = "closed"  # called as usual
    OPEN = "open"  # not called until the cool-down ends
    HALF_OPEN = "half_open"  # one probe in flight decides


@dataclass(frozen=True)
class BreakerParams:
    """When a breaker opens and how long it stays open."""

    failures: int = 3
    cooldown_s: float = 60.0


@dataclass(frozen=True)
class Breaker:
    """One callee's breaker."""

    state: BreakerState = BreakerState.CLOSED
    failures: int = 0  # consecutive
    opened_at: float | None = None


def admit(breaker: Breaker, now: float, params: BreakerParams) -> tuple[int, Breaker]:
    """How many calls the callee may get now (0, 1 probe, or any: -1), and the new state.

    >>> opened = Breaker(BreakerState.OPEN, 3, 100.0)
    >>> admit(opened, 130.0, BreakerParams(3, 60))[0], admit(opened, 160.0, BreakerParams(3, 60))
    (0, (1, Breaker(state=<BreakerState.HALF_OPEN: 'half_open'>, failures=3, opened_at=160.0)))
    """
    if breaker.state is BreakerState.CLOSED:
        return -1, breaker
    assert breaker.opened_at is not None
    if now < breaker.opened_at + params.cooldown_s:
        return 0, breaker
    # open past its cool-down, or a half-open probe that never reported (its process died)
    return 1, replace(breaker, state=BreakerState.HALF_OPEN, opened_at=now)


def record(breaker: Breaker, is_ok: bool, now: float, params: BreakerParams) -> Breaker:
    """The breaker after one call's outcome.

    >>> b = Breaker()
    >>> for _ in range(3):
    ...     b = record(b, False, 10.0, BreakerParams(3, 60))
    >>> b.state, record(b, True, 20.0, BreakerParams(3, 60)).state
    (<BreakerState.OPEN: 'open'>, <BreakerState.CLOSED: 'closed'>)
    """
    if is_ok:
        return Breaker()
    failures = breaker.failures + 1
    if breaker.state is BreakerState.HALF_OPEN or failures >= params.failures:
        return Breaker(BreakerState.OPEN, failures, now)
    return Breaker(BreakerState.CLOSED, failures)
