"""Uptime of a check or a target over a span, and the outages that spent it.

A target is down while any of its checks is down (or unreachable): its state changes are
the merge of its checks' changes.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tasks.core.slo.timeline import BAD_STATES, GOOD_STATES, StateTimeline

States = Sequence[tuple[float, str]]  # (epoch seconds, status), in time order


@dataclass(frozen=True)
class Outage:
    """A stretch of bad time within the span asked about."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        """How long it lasted (within the span)."""
        return self.end - self.start


@dataclass(frozen=True)
class Uptime:
    """Good time over counted time (``None`` when nothing was counted), and the outages."""

    share: float | None
    counted_s: float
    outages: tuple[Outage, ...]


def uptime(states: States, start: float, end: float) -> Uptime:
    """Uptime over ``[start, end)``: each state holds until the next.

    >>> u = uptime([(0, "up"), (30, "down"), (40, "up")], 0, 100)
    >>> u.share, u.outages
    (0.9, (Outage(start=30, end=40),))
    """
    tally = StateTimeline(states, end=end).tally(start, end)
    share = tally.good / tally.total if tally.total > 0 else None
    return Uptime(share, tally.total, tuple(outages(states, start, end)))


def outages(states: States, start: float, end: float) -> list[Outage]:
    """Maximal bad stretches, clipped to ``[start, end)``; unknown time ends none."""
    found: list[Outage] = []
    began: float | None = None
    for at, status in states:
        if status in BAD_STATES and began is None:
            began = at
        elif status in GOOD_STATES and began is not None:
            _add(found, began, at, start, end)
            began = None
    if began is not None:
        _add(found, began, end, start, end)
    return found


def _add(found: list[Outage], began: float, ended: float, start: float, end: float) -> None:
    clipped = Outage(max(began, start), min(ended, end))
    if clipped.seconds > 0:
        found.append(clipped)


def target_states(checks: Mapping[str, States]) -> list[tuple[float, str]]:
    """Merge a target's checks: down while any is bad, up while all counted are up.

    >>> target_states({"a": [(0, "up"), (10, "down"), (20, "up")], "b": [(0, "up"), (15, "down")]})
    [(0, 'up'), (10, 'down')]
    """
    events = sorted((at, name, status) for name, states in checks.items() for at, status in states)
    current: dict[str, str] = {}
    merged: list[tuple[float, str]] = []
    for at, name, status in events:
        current[name] = status
        known = [s for s in current.values() if s in GOOD_STATES | BAD_STATES]
        state = "down" if any(s in BAD_STATES for s in known) else "up" if known else "unknown"
        if merged and merged[-1][0] == at:
            merged[-1] = (at, state)
        elif not merged or merged[-1][1] != state:
            merged.append((at, state))
    return _dedupe(merged)


def _dedupe(merged: list[tuple[float, str]]) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    for at, state in merged:
        if not out or out[-1][1] != state:
            out.append((at, state))
    return out
