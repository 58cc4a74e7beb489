"""Uptime of a check or a target over a span, from the outages that spent it.

An outage runs from a check's first bad result (down or unreachable) to its next up
result. A target is down while any of its checks is down: its outages are the union of
theirs. Uptime is the share of the observed part of the span (from the first result on)
outside outages, so it needs only the bad results, never a month of good ones.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Outage:
    """A stretch of bad time (epoch seconds)."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        """How long it lasted."""
        return self.end - self.start


def merged(outages: Iterable[Outage]) -> list[Outage]:
    """The union of ``outages``, in time order.

    >>> merged([Outage(10, 20), Outage(0, 5), Outage(15, 30)])
    [Outage(start=0, end=5), Outage(start=10, end=30)]
    """
    out: list[Outage] = []
    for outage in sorted(outages, key=lambda o: o.start):
        if out and outage.start <= out[-1].end:
            out[-1] = Outage(out[-1].start, max(out[-1].end, outage.end))
        else:
            out.append(outage)
    return out


def within(outages: Sequence[Outage], start: float, end: float) -> list[Outage]:
    """The parts of ``outages`` inside ``[start, end)``."""
    clipped = (Outage(max(o.start, start), min(o.end, end)) for o in outages)
    return [o for o in clipped if o.seconds > 0]


def uptime_share(
    outages: Sequence[Outage], start: float, end: float, observed_from: float | None
) -> float | None:
    """Share of ``[max(start, observed_from), end)`` outside the (merged) outages.

    >>> uptime_share([Outage(30, 40)], 0, 100, observed_from=0)
    0.9
    >>> uptime_share([Outage(30, 40)], 0, 100, observed_from=50), uptime_share([], 0, 1, None)
    (1.0, None)
    """
    if observed_from is None or observed_from >= end:
        return None
    begin = max(start, observed_from)
    bad = sum(o.seconds for o in within(merged(outages), begin, end))
    return 1.0 - bad / (end - begin)
