"""Check writes a store outage left behind, held in memory for the next write (bounded)."""

from collections.abc import Sequence
from typing import Any, NamedTuple

from tasks.core.collect.backlog import Backlog

Increment = tuple[str, dict[str, str], float]


class CheckRows(NamedTuple):
    """What one or more check batches write: rows of three tables, counters and samples."""

    results: Sequence[dict]
    states: Sequence[dict]
    scores: Sequence[dict]
    counts: Sequence[Increment]
    samples: Sequence[Any]


class PendingChecks:
    """Check rows the store has not taken yet, oldest first.

    Results, scores and samples are kept up to ``limit`` each (beyond it the oldest go
    and are counted in ``dropped``); states keep only each check's newest row, and counter
    increments are summed, so those stay as small as the check list.

    >>> pending = PendingChecks(limit=2)
    >>> pending.hold(CheckRows([{"check": "a", "at": 1}], [{"check": "a", "n": 1}], [], [], []))
    >>> pending.hold(CheckRows([{"check": "a", "at": 2}], [{"check": "a", "n": 2}], [], [], []))
    >>> rows = pending.take()
    >>> len(rows.results), rows.states, len(pending)
    (2, [{'check': 'a', 'n': 2}], 0)
    """

    def __init__(self, limit: int) -> None:
        self.results = Backlog(limit)
        self.scores = Backlog(limit)
        self.samples = Backlog(limit)
        self._states: dict[str, dict] = {}
        self._counts: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def hold(self, rows: CheckRows) -> None:
        """Keep ``rows`` after those already held."""
        self.results.hold(rows.results)
        self.scores.hold(rows.scores)
        self.samples.hold(rows.samples)
        self._states.update({row["check"]: row for row in rows.states})
        for name, labels, amount in rows.counts:
            key = (name, tuple(sorted(labels.items())))
            self._counts[key] = self._counts.get(key, 0.0) + amount

    def take(self) -> CheckRows:
        """Return everything held, merged into one batch, and hold nothing."""
        counts = [(name, dict(labels), value) for (name, labels), value in self._counts.items()]
        rows = CheckRows(
            self.results.take(),
            list(self._states.values()),
            self.scores.take(),
            counts,
            self.samples.take(),
        )
        self._states, self._counts = {}, {}
        return rows

    @property
    def dropped(self) -> int:
        """Results, scores and samples lost to the limit, over this holder's life."""
        return self.results.dropped + self.scores.dropped + self.samples.dropped

    def __len__(self) -> int:
        """How many results wait."""
        return len(self.results)
