"""Health scores: checks roll up into components, components into targets, targets into the system.

Each level is a weighted mean (0-100) of the scores below it that are known; a check
that is UNREACHABLE or UNKNOWN says nothing about its own health and is left out.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from tasks.core.checks.machine import CheckState
from tasks.core.checks.state import CheckStatus

SYSTEM = "system"


class HealthLevel(StrEnum):
    """How healthy something is, from its score."""

    HEALTHY = "healthy"  # score >= levels.healthy
    WARNING = "warning"  # worth a look
    DEGRADED = "degraded"  # users notice
    CRITICAL = "critical"  # broken
    UNKNOWN = "unknown"  # nothing known: no checks ran, or all paused/unreachable


class Scope(StrEnum):
    """Where in the health tree a score sits."""

    CHECK = "check"
    COMPONENT = "component"  # named target/component
    TARGET = "target"
    SYSTEM = "system"


@dataclass(frozen=True)
class ScoringRules:
    """Weights and level thresholds (lowest score of healthy, warning, degraded)."""

    healthy: float = 90
    warning: float = 70
    degraded: float = 40
    soft_down_score: float = 50
    component_weights: Mapping[str, float] = field(default_factory=dict)
    target_weights: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoredCheck:
    """One check's place in the tree and its current state."""

    check: str
    target: str
    component: str
    weight: float
    state: CheckState


@dataclass(frozen=True)
class Score:
    """A score and level of one node of the tree."""

    scope: Scope
    name: str
    score: float | None
    level: HealthLevel


def check_score(state: CheckState, rules: ScoringRules) -> float | None:
    """Return 100 for UP, 0 for hard DOWN, the soft-down score for soft DOWN, else None."""
    if state.status is CheckStatus.UP:
        return 100.0
    if state.status is CheckStatus.DOWN:
        return 0.0 if state.is_hard else rules.soft_down_score
    return None


def level_of(score: float | None, rules: ScoringRules) -> HealthLevel:
    """Map a score to its level.

    >>> [level_of(s, ScoringRules()).value for s in (100, 75, 40, 10, None)]
    ['healthy', 'warning', 'degraded', 'critical', 'unknown']
    """
    if score is None:
        return HealthLevel.UNKNOWN
    if score >= rules.healthy:
        return HealthLevel.HEALTHY
    if score >= rules.warning:
        return HealthLevel.WARNING
    if score >= rules.degraded:
        return HealthLevel.DEGRADED
    return HealthLevel.CRITICAL


def weighted_mean(parts: Sequence[tuple[float | None, float]]) -> float | None:
    """Return the weighted mean of the known scores, or None when none is known.

    >>> weighted_mean([(100, 3), (0, 1), (None, 5)])
    75.0
    """
    known = [(score, weight) for score, weight in parts if score is not None]
    total = sum(weight for _, weight in known)
    return sum(score * weight for score, weight in known) / total if total else None


def score_tree(checks: Sequence[ScoredCheck], rules: ScoringRules) -> list[Score]:
    """Score every check, component, target and the system."""
    scores: list[Score] = []
    components: dict[tuple[str, str], list[tuple[float | None, float]]] = {}
    for check in checks:
        value = check_score(check.state, rules)
        scores.append(_score(Scope.CHECK, check.check, value, rules))
        components.setdefault((check.target, check.component), []).append((value, check.weight))
    targets: dict[str, list[tuple[float | None, float]]] = {}
    for (target, component), parts in sorted(components.items()):
        value = weighted_mean(parts)
        scores.append(_score(Scope.COMPONENT, f"{target}/{component}", value, rules))
        weight = rules.component_weights.get(component, 1.0)
        targets.setdefault(target, []).append((value, weight))
    system = []
    for target, parts in sorted(targets.items()):
        value = weighted_mean(parts)
        scores.append(_score(Scope.TARGET, target, value, rules))
        system.append((value, rules.target_weights.get(target, 1.0)))
    scores.append(_score(Scope.SYSTEM, SYSTEM, weighted_mean(system), rules))
    return scores


def _score(scope: Scope, name: str, value: float | None, rules: ScoringRules) -> Score:
    rounded = None if value is None else round(value, 2)
    return Score(scope, name, rounded, level_of(rounded, rules))


def worth_recording(
    scores: Sequence[Score],
    last: Mapping[tuple[str, str], tuple[HealthLevel, float]],
    *,
    now_s: float,
    every_s: float,
) -> list[Score]:
    """Keep the scores whose level changed or whose last record is ``every_s`` old.

    ``last`` maps (scope, name) to the level and time (epoch seconds) last recorded;
    this keeps the score history a trend, not a copy of every check result.
    """
    keep = []
    for score in scores:
        before = last.get((score.scope, score.name))
        if before is None or before[0] != score.level or now_s - before[1] >= every_s:
            keep.append(score)
    return keep
