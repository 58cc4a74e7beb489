"""Alertmanager's grouping: group_wait, group_interval, repeat_interval.

A group is born when its first alert fires and is flushed ``group_wait`` later. After
each flush, the next one comes ``group_interval`` later and notifies only if the set of
firing alerts changed (new ones, resolved ones); an unchanged group is re-sent after
``repeat_interval``, which grows by ``repeat_factor`` with each repeat (up to ``repeat_max``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CLOCK_SLACK_S = 0.001  # instants round-trip through the database at microsecond precision


@dataclass(frozen=True)
class Timers:
    """A route's grouping timers, in seconds."""

    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 14400.0
    repeat_factor: float = 1.0  # each repeat of an unchanged group waits this much longer
    repeat_max_s: float | None = None  # the longest wait between repeats

    def repeat_after_s(self, repeats: int) -> float:
        """Return the wait before the next repeat, after ``repeats`` repeats of one state.

        >>> [Timers(repeat_interval_s=3600, repeat_factor=2, repeat_max_s=86400)
        ...  .repeat_after_s(n) for n in (0, 1, 2, 5, 9)]
        [3600.0, 7200.0, 14400.0, 86400.0, 86400.0]
        """
        wait = self.repeat_interval_s * self.repeat_factor ** min(repeats, 64)
        return float(wait if self.repeat_max_s is None else min(wait, self.repeat_max_s))


@dataclass(frozen=True)
class GroupState:
    """What a group remembers between flushes."""

    next_flush_at: float
    last_notified_at: float | None = None
    notified: frozenset[str] = frozenset()  # fingerprints told as firing, not yet resolved
    repeats: int = 0  # repeats sent since the group last changed


@dataclass(frozen=True)
class FlushPlan:
    """What one flush sends: firing and resolved fingerprints, and whether it only repeats."""

    firing: tuple[str, ...]
    resolved: tuple[str, ...]
    is_repeat: bool


def group_labels(labels: Mapping[str, str], group_by: Sequence[str]) -> dict[str, str]:
    """Return the labels that name an alert's group (``...`` groups by every label).

    >>> group_labels({"alertname": "Cpu", "target": "a", "core": "1"}, ["alertname"])
    {'alertname': 'Cpu'}
    """
    if "..." in group_by:
        return dict(labels)
    return {k: labels[k] for k in group_by if k in labels}


def plan_flush(
    group: GroupState,
    firing: frozenset[str],
    resolved: frozenset[str],
    *,
    now: float,
    timers: Timers,
    held: frozenset[str] = frozenset(),
    quiet: frozenset[str] = frozenset(),
) -> tuple[FlushPlan | None, GroupState]:
    """Decide what a flush at ``now`` sends, and the group's state afterwards.

    ``firing``: unmuted firing fingerprints now; ``resolved``: fingerprints whose alerts
    are resolved (only those told as firing before get a resolve notice); ``held``:
    fingerprints told before whose news waits (flapping, notify delay): neither repeated
    nor resolved; ``quiet``: firing fingerprints not repeated now (silenced, inhibited,
    acknowledged). Told fingerprints that are held or quiet stay told, so their resolve
    notice still goes out when they resolve.

    >>> g = GroupState(next_flush_at=30)
    >>> plan, g = plan_flush(g, frozenset({"a"}), frozenset(), now=30, timers=Timers())
    >>> plan.firing, g.next_flush_at
    (('a',), 330.0)
    """
    if now + CLOCK_SLACK_S < group.next_flush_at:
        return None, group
    to_resolve = (group.notified & resolved) - held
    remembered = firing | (group.notified & (held | quiet))
    changed = bool(firing - group.notified) or bool(to_resolve)
    due_repeat = (
        bool(firing)
        and group.last_notified_at is not None
        and now - group.last_notified_at >= timers.repeat_after_s(group.repeats)
    )
    next_flush_at = now + timers.group_interval_s
    if not changed and not due_repeat:
        return None, GroupState(next_flush_at, group.last_notified_at, remembered, group.repeats)
    plan = FlushPlan(tuple(sorted(firing)), tuple(sorted(to_resolve)), is_repeat=not changed)
    repeats = 0 if changed else group.repeats + 1
    return plan, GroupState(next_flush_at, now, remembered, repeats)
