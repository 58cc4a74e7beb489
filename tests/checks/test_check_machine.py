"""Soft/hard states, recovery, dependencies and maintenance: pure logic, explicit clock."""

from datetime import UTC, datetime, timedelta

from tasks.core.checks.machine import CheckState, Outcome, Rules, next_state
from tasks.core.checks.round import CheckSpec, dependency_order, due, resolve, seconds_until_due
from tasks.core.checks.state import CheckStatus

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PASS, FAIL = Outcome(True, "ok"), Outcome(False, "refused")


def run(outcomes, rules, state=CheckState()):
    """Feed outcomes one minute apart; return every state."""
    states = []
    for minute, outcome in enumerate(outcomes):
        state = next_state(state, outcome, rules, now=T0 + timedelta(minutes=minute))
        states.append(state)
    return states


def test_a_check_is_hard_down_only_after_max_attempts_failures():
    states = run([FAIL, FAIL, FAIL], Rules(max_attempts=3))
    assert [(s.status, s.is_hard, s.attempt) for s in states] == [
        (CheckStatus.DOWN, False, 1),
        (CheckStatus.DOWN, False, 2),
        (CheckStatus.DOWN, True, 3),
    ]
    assert states[2].since == T0 + timedelta(minutes=2)  # hardness changed


def test_a_soft_failure_recovers_at_once():
    states = run([PASS, FAIL, PASS], Rules(max_attempts=3, recover_after=3))
    assert [(s.status, s.is_hard) for s in states] == [
        (CheckStatus.UP, True),
        (CheckStatus.DOWN, False),
        (CheckStatus.UP, True),
    ]
    assert states[2].failures == 0


def test_a_hard_down_needs_recover_after_passes_and_stays_down_meanwhile():
    states = run([FAIL, FAIL, PASS, PASS, FAIL, PASS, PASS], Rules(max_attempts=2, recover_after=2))
    assert [(s.status.value, s.is_hard) for s in states] == [
        ("down", False),
        ("down", True),
        ("down", True),  # 1 of 2 passes
        ("up", True),
        ("down", False),
        ("up", True),  # a soft failure needs no streak
        ("up", True),
    ]
    assert states[2].since == states[1].since  # still the same hard DOWN


def test_one_max_attempt_means_the_first_failure_is_hard():
    (state,) = run([FAIL], Rules(max_attempts=1))
    assert (state.status, state.is_hard) == (CheckStatus.DOWN, True)


SPECS = [
    CheckSpec("app", "web", 60, rules=Rules(max_attempts=1), depends_on=("network",)),
    CheckSpec("network", "router", 60, rules=Rules(max_attempts=1)),
    CheckSpec("disk", "web", 60),
]


def test_parents_are_resolved_before_children():
    assert [s.name for s in dependency_order(SPECS)] == ["network", "app", "disk"]


def test_a_failing_child_of_a_down_parent_is_unreachable_and_not_down():
    resolved = resolve(SPECS, {}, {"app": FAIL, "network": FAIL}, maintenance={}, now=T0)
    by_name = {r.spec.name: r for r in resolved}
    assert by_name["network"].report.status is CheckStatus.DOWN
    app = by_name["app"].report
    assert (app.status, app.is_hard) == (CheckStatus.UNREACHABLE, True)
    assert app.message == "parent network is down: refused"
    assert "disk" not in by_name  # it did not run this round


def test_a_child_is_judged_normally_once_its_parent_is_up_again():
    states = {
        s.spec.name: s.state
        for s in resolve(SPECS, {}, {"app": FAIL, "network": FAIL}, maintenance={}, now=T0)
    }
    later = T0 + timedelta(minutes=1)
    resolved = resolve(SPECS, states, {"app": FAIL, "network": PASS}, maintenance={}, now=later)
    app = next(r for r in resolved if r.spec.name == "app")
    assert (app.report.status, app.report.is_hard) == (CheckStatus.DOWN, True)


def test_a_passing_child_of_a_down_parent_is_up():
    resolved = resolve(SPECS, {}, {"app": PASS, "network": FAIL}, maintenance={}, now=T0)
    assert {r.spec.name: r.report.status for r in resolved}["app"] is CheckStatus.UP


def test_maintenance_pauses_a_check_as_unknown_and_restarts_its_count():
    before = {"disk": CheckState(CheckStatus.DOWN, False, 2, 0, T0, T0)}
    (item,) = resolve(SPECS, before, {}, maintenance={"disk": "patching"}, now=T0)
    assert (item.report.status, item.report.is_hard) == (CheckStatus.UNKNOWN, False)
    assert item.state.failures == 0
    assert "patching" in item.report.message


def test_a_late_run_keeps_the_state_and_reports_late():
    down = CheckState(CheckStatus.DOWN, False, 1, 0, T0, T0)
    late = Outcome(False, "late: waited 3.0 s", tries=0, is_late=True)
    later = T0 + timedelta(minutes=1)
    resolved = resolve(
        SPECS, {"network": down}, {"network": late, "app": FAIL}, maintenance={}, now=later
    )
    by_name = {r.spec.name: r for r in resolved}
    network = by_name["network"]
    assert network.state == CheckState(CheckStatus.DOWN, False, 1, 0, T0, later)  # rescheduled
    assert (network.report.status, network.report.is_hard) == (CheckStatus.LATE, False)
    assert network.report.message == "late: waited 3.0 s" and network.report.latency_ms is None
    assert by_name["app"].report.status is CheckStatus.UNREACHABLE  # its parent is still down


def test_a_late_first_run_leaves_a_never_run_check_unknown():
    late = Outcome(False, "late", tries=0, is_late=True)
    (item,) = resolve(SPECS, {}, {"disk": late}, maintenance={}, now=T0)
    assert item.state == CheckState(checked_at=T0)
    assert item.state.status is CheckStatus.UNKNOWN and item.report.status is CheckStatus.LATE


def test_soft_failures_say_their_attempt_in_the_report():
    spec = CheckSpec("disk", "web", 60, rules=Rules(max_attempts=3))
    (item,) = resolve([spec], {}, {"disk": FAIL}, maintenance={}, now=T0)
    assert item.report.message == "soft failure 1/3: refused"


def test_checks_are_due_after_their_interval():
    states = {"app": CheckState(checked_at=T0), "network": CheckState(checked_at=T0)}
    assert due(SPECS, states, T0 + timedelta(seconds=59)) == ["disk"]
    assert due(SPECS, states, T0 + timedelta(seconds=60)) == ["app", "network", "disk"]
    states["disk"] = CheckState(checked_at=T0)
    assert seconds_until_due(SPECS, states, T0 + timedelta(seconds=45)) == 15
