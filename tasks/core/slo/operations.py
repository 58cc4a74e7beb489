"""Operations figures from alert episodes and recovery runs: MTTA, MTTR, noise, auto-fixes.

An episode is one firing of one alert: from its transition to firing until its next
transition to resolved (or inactive); acknowledgements and recovery runs are matched to
the episode whose span holds them.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import mean

ENDED = frozenset({"resolved", "inactive"})


@dataclass(frozen=True)
class Episode:
    """One firing of one alert (times in epoch seconds; ``resolved_at`` None: still firing)."""

    alert_id: int
    rule: str
    target: str
    fired_at: float
    resolved_at: float | None = None
    acked_at: float | None = None
    fixed_by: str | None = None  # the procedure whose successful run ended it

    @property
    def is_auto_fixed(self) -> bool:
        """A recovery procedure succeeded while it fired."""
        return self.fixed_by is not None


def episodes(
    transitions: Iterable[tuple[int, str, str, float, str]],
    acks: Iterable[tuple[int, float]] = (),
    fixes: Iterable[tuple[str, str, str, float]] = (),
) -> list[Episode]:
    """Build episodes from ``(alert_id, rule, to_state, at, target)`` in time order.

    ``acks`` are ``(alert_id, at)``; ``fixes`` are successful runs ``(procedure, trigger
    rule, target, finished_at)``: a fix of the episode's rule and target finishing
    within its span makes it auto-fixed.

    >>> ep = episodes([(1, "Hot", "firing", 10, "a"), (1, "Hot", "resolved", 70, "a")], [(1, 25)])
    >>> (ep[0].fired_at, ep[0].acked_at, ep[0].resolved_at)
    (10, 25, 70)
    """
    open_: dict[int, dict] = {}
    done: list[dict] = []
    for alert_id, rule, to_state, at, target in transitions:
        if to_state == "firing" and alert_id not in open_:
            open_[alert_id] = {"alert_id": alert_id, "rule": rule, "target": target, "fired_at": at}
        elif to_state in ENDED and alert_id in open_:
            done.append({**open_.pop(alert_id), "resolved_at": at})
    found = [*done, *open_.values()]
    by_alert = defaultdict(list)
    for item in found:
        by_alert[item["alert_id"]].append(item)
    for alert_id, at in sorted(acks, key=lambda a: a[1]):
        for item in by_alert.get(alert_id, ()):
            if _within(item, at) and "acked_at" not in item:
                item["acked_at"] = at
    for procedure, rule, target, at in fixes:
        for item in found:
            if (item["rule"], item["target"]) == (rule, target) and _within(item, at):
                item.setdefault("fixed_by", procedure)
    return sorted((Episode(**item) for item in found), key=lambda e: (e.fired_at, e.alert_id))


def _within(item: dict, at: float) -> bool:
    end = item.get("resolved_at")
    return item["fired_at"] <= at and (end is None or at <= end)


@dataclass(frozen=True)
class OperationsFigures:
    """The figures of one span; means in seconds, ``None`` when nothing was measured."""

    alerts: int
    mtta_s: float | None
    mttr_s: float | None
    auto_fixed_share: float | None
    alerts_per_rule: dict[str, int]
    recovery_success: dict[str, tuple[int, int]]  # procedure -> (succeeded, finished)
    dismissed_per_rule: dict[str, int]


def operations_figures(
    found: Sequence[Episode],
    runs: Iterable[tuple[str, str]] = (),
    dismissed_rules: Iterable[str] = (),
) -> OperationsFigures:
    """Summarise ``found`` episodes, finished ``(procedure, state)`` runs and dismissals.

    >>> ep = [Episode(1, "Hot", "a", 0, 600, 60), Episode(2, "Hot", "b", 0, 1200, None, "restart")]
    >>> f = operations_figures(ep, [("restart", "succeeded"), ("restart", "failed")])
    >>> f.mtta_s, f.mttr_s, f.auto_fixed_share, f.recovery_success
    (60, 900, 0.5, {'restart': (1, 2)})
    """
    acked = [e.acked_at - e.fired_at for e in found if e.acked_at is not None]
    resolved = [e for e in found if e.resolved_at is not None]
    repairs = [e.resolved_at - e.fired_at for e in resolved if e.resolved_at is not None]
    totals: Counter[str] = Counter()
    wins: Counter[str] = Counter()
    for procedure, state in runs:
        totals[procedure] += 1
        wins[procedure] += state == "succeeded"
    return OperationsFigures(
        alerts=len(found),
        mtta_s=mean(acked) if acked else None,
        mttr_s=mean(repairs) if repairs else None,
        auto_fixed_share=(
            sum(e.is_auto_fixed for e in resolved) / len(resolved) if resolved else None
        ),
        alerts_per_rule=dict(Counter(e.rule for e in found).most_common()),
        recovery_success={p: (wins[p], totals[p]) for p in sorted(totals)},
        dismissed_per_rule=dict(Counter(dismissed_rules).most_common()),
    )
