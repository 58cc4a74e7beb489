"""Maintenance windows: one-off spans or cron schedules in a time zone, over label matchers.

A window covers an alert (or a recovery target) when it is active and its matchers match
the labels, with the same matcher semantics as silences (``models.vocabulary.selectors``).
Recurring windows start at each cron match *in local time* of their zone (DST handled
like cron: a start in the skipped hour happens right after the jump, a start in the
repeated hour happens once) and last ``duration_s`` of elapsed time.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim

from models.vocabulary.selectors import Selector

Span = tuple[float, float]  # [start, end) in epoch seconds


@dataclass(frozen=True)
class MaintenanceSpec:
    """A named window: either ``schedule`` + ``duration_s`` or a one-off ``start``/``end``."""

    name: str
    matchers: Selector
    timezone: str = "UTC"
    schedule: str | None = None  # five-field cron, read in ``timezone``
    duration_s: float = 0.0
    start: float | None = None  # one-off window (epoch seconds)
    end: float | None = None

    def span_at(self, now: float) -> Span | None:
        """Return the span that covers ``now``, or None when the window is not active.

        >>> from models.vocabulary.selectors import parse_selector
        >>> db = parse_selector('{target="db"}')
        >>> w = MaintenanceSpec("w", db, schedule="0 2 * * *", duration_s=3600)
        >>> w.span_at(7200.0), w.span_at(10800.0)
        ((7200.0, 10800.0), None)
        """
        if self.schedule is None:
            assert self.start is not None and self.end is not None
            return (self.start, self.end) if self.start <= now < self.end else None
        # A start that covers ``now`` lies in (now - duration, now]; cronsim is exclusive.
        start = self._next_start(now - self.duration_s)
        return (start, start + self.duration_s) if start <= now else None

    def next_span(self, now: float) -> Span | None:
        """Return the span active at ``now``, else the next one; None when none is left."""
        current = self.span_at(now)
        if current is not None:
            return current
        if self.schedule is None:
            assert self.start is not None and self.end is not None
            return (self.start, self.end) if now < self.start else None
        start = self._next_start(now)
        return (start, start + self.duration_s)

    def _next_start(self, after: float) -> float:
        zone = ZoneInfo(self.timezone)
        assert self.schedule is not None
        return next(CronSim(self.schedule, datetime.fromtimestamp(after, zone))).timestamp()


def active_windows(windows: Iterable[MaintenanceSpec], now: float) -> list[MaintenanceSpec]:
    """Return the windows active at ``now`` (compute once per pass, then match labels)."""
    return [w for w in windows if w.span_at(now) is not None]


def maintenance_of(labels: Mapping[str, str], active: Iterable[MaintenanceSpec]) -> str | None:
    """Return the name of the first active window whose matchers match ``labels``, or None.

    >>> from models.vocabulary.selectors import parse_selector
    >>> db = MaintenanceSpec("backup", parse_selector('{target="db"}'), start=0.0, end=9.0)
    >>> maintenance_of({"target": "db"}, [db]), maintenance_of({"target": "web"}, [db])
    ('backup', None)
    """
    return next((w.name for w in active if w.matchers.matches("", labels)), None)
