"""Health scores roll up check -> component -> target -> system with weights and levels."""

from tasks.core.checks.health_score import (
    HealthLevel,
    Scope,
    ScoredCheck,
    ScoringRules,
    score_tree,
    worth_recording,
)
from tasks.core.checks.machine import CheckState
from tasks.core.checks.state import CheckStatus

UP = CheckState(CheckStatus.UP, True)
HARD_DOWN = CheckState(CheckStatus.DOWN, True, 3)
SOFT_DOWN = CheckState(CheckStatus.DOWN, False, 1)
UNREACHABLE = CheckState(CheckStatus.UNREACHABLE, True)


def tree(checks, rules=ScoringRules()):
    return {(s.scope, s.name): (s.score, s.level) for s in score_tree(checks, rules)}


def test_weights_shape_every_level_of_the_tree():
    checks = [
        ScoredCheck("api-http", "web", "api", 3, UP),
        ScoredCheck("api-tcp", "web", "api", 1, HARD_DOWN),
        ScoredCheck("db-query", "db", "sql", 1, UP),
    ]
    rules = ScoringRules(component_weights={"api": 1}, target_weights={"web": 3, "db": 1})
    scores = tree(checks, rules)
    assert scores[(Scope.CHECK, "api-tcp")] == (0.0, HealthLevel.CRITICAL)
    assert scores[(Scope.COMPONENT, "web/api")] == (75.0, HealthLevel.WARNING)
    assert scores[(Scope.TARGET, "web")] == (75.0, HealthLevel.WARNING)
    assert scores[(Scope.TARGET, "db")] == (100.0, HealthLevel.HEALTHY)
    assert scores[(Scope.SYSTEM, "system")] == (81.25, HealthLevel.WARNING)


def test_soft_failures_count_partly_and_unreachable_checks_not_at_all():
    checks = [
        ScoredCheck("a", "web", "api", 1, SOFT_DOWN),
        ScoredCheck("b", "web", "api", 1, UNREACHABLE),
    ]
    scores = tree(checks, ScoringRules(soft_down_score=50))
    assert scores[(Scope.COMPONENT, "web/api")] == (50.0, HealthLevel.DEGRADED)
    assert scores[(Scope.CHECK, "b")] == (None, HealthLevel.UNKNOWN)


def test_nothing_known_is_unknown_not_healthy():
    scores = tree([ScoredCheck("a", "web", "api", 1, CheckState())])
    assert scores[(Scope.SYSTEM, "system")] == (None, HealthLevel.UNKNOWN)
    assert tree([])[(Scope.SYSTEM, "system")] == (None, HealthLevel.UNKNOWN)


def test_custom_levels_move_the_boundaries():
    rules = ScoringRules(healthy=99, warning=80, degraded=60)
    checks = [ScoredCheck("a", "t", "c", 1, UP), ScoredCheck("b", "t", "c", 1, SOFT_DOWN)]
    assert tree(checks, rules)[(Scope.TARGET, "t")] == (75.0, HealthLevel.DEGRADED)


def test_scores_are_recorded_on_level_changes_and_then_every_interval():
    scores = score_tree([ScoredCheck("a", "t", "c", 1, UP)], ScoringRules())
    first = worth_recording(scores, {}, now_s=0, every_s=60)
    assert len(first) == len(scores)
    last = {(s.scope, s.name): (s.level, 0.0) for s in first}
    assert worth_recording(scores, last, now_s=30, every_s=60) == []
    assert len(worth_recording(scores, last, now_s=60, every_s=60)) == len(scores)
    down = score_tree([ScoredCheck("a", "t", "c", 1, HARD_DOWN)], ScoringRules())
    assert len(worth_recording(down, last, now_s=30, every_s=60)) == len(down)
