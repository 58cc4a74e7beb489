"""Process up/down and restart counting: a restart is a new pid for the same watch."""

from dataclasses import dataclass


@dataclass(frozen=True)
class WatchState:
    """What is known about one watched process between ticks."""

    pid: int | None = None  # the pid seen last time it was up; kept while it is down
    restarts: int = 0


def observe(state: WatchState, pid: int | None) -> WatchState:
    """Return the state after seeing ``pid`` (None: not running) for this watch.

    >>> s = observe(WatchState(), 100)
    >>> s = observe(s, None)          # killed: down, pid remembered
    >>> observe(s, 200)               # back with a new pid: one restart
    WatchState(pid=200, restarts=1)
    """
    if pid is None or pid == state.pid:
        return state
    restarts = state.restarts + (state.pid is not None)
    return WatchState(pid=pid, restarts=restarts)
