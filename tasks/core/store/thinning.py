"""Which old history rows to drop: all of them, except those that changed their subject's state."""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class HistoryRow:
    """One row of a history table (check results, health scores), as retention sees it."""

    id: int
    is_past_changes: bool  # older than even state changes are kept
    subject: Hashable  # what the row is about: a check, a (scope, node)
    state: Hashable  # what a change of is worth keeping: (status, is_hard), a level


def rows_to_drop(rows: Iterable[HistoryRow], previous: dict[Hashable, Hashable]) -> list[int]:
    """Return the ids of ``rows`` (oldest first) that retention deletes.

    A row past the changes' retention goes; a younger one stays only if its state differs
    from its subject's previous row (a transition, or the oldest row left of its subject).
    ``previous`` carries each subject's last state from one batch to the next; it is updated.

    >>> rows = [HistoryRow(i, False, "web", s) for i, s in enumerate(["up", "up", "down", "up"])]
    >>> rows_to_drop([HistoryRow(9, True, "db", "up"), *rows], {})
    [9, 1]
    """
    drop = []
    for row in rows:
        if row.is_past_changes or previous.get(row.subject, _NONE) == row.state:
            drop.append(row.id)
        previous[row.subject] = row.state
    return drop


_NONE = object()
