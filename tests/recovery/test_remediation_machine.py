"""The remediate-then-escalate state machine: attempts, window, verdicts, healthy-cycle reset."""

from tasks.core.recovery.remediation import (
    Phase,
    Policy,
    Remediation,
    Verdict,
    launch_refused,
    muting,
    on_cycle,
    on_firing,
    run_failed,
    tick,
)

POLICY = Policy(attempts=3, window_s=3600, verify_within_s=120, reset_after_healthy=5)


def _fire(state: Remediation, at: float) -> tuple[Remediation, bool]:
    return on_firing(POLICY, state, fired_at=at, now=at)


def test_a_firing_alert_starts_an_attempt_and_holds_its_page_until_the_deadline():
    state, is_go = _fire(Remediation(), 100.0)
    assert is_go and state.phase is Phase.VERIFYING and state.attempts == (100.0,)
    assert muting(POLICY, state, fired_at=100.0, now=219.9) == "held"
    assert muting(POLICY, state, fired_at=100.0, now=220.0) is None  # the deadline lifts it
    assert tick(state, now=220.0) == (
        Remediation(Phase.FAILED, (100.0,), 0, 100.0, None),
        Verdict.FAILED,
    )


def test_a_healthy_cycle_before_the_deadline_fixes_it_and_keeps_the_episode_quiet():
    state, _ = _fire(Remediation(), 100.0)
    state, verdict = on_cycle(POLICY, state, is_healthy=False, now=110.0)
    assert verdict is None and state.phase is Phase.VERIFYING
    state, verdict = on_cycle(POLICY, state, is_healthy=True, now=150.0)
    assert verdict is Verdict.FIXED and state.phase is Phase.FIXED
    assert muting(POLICY, state, fired_at=100.0, now=10_000.0) == "quiet"
    assert muting(POLICY, state, fired_at=500.0, now=500.0) is None  # a later episode: not ours


def test_a_healthy_cycle_after_the_deadline_comes_too_late():
    state, _ = _fire(Remediation(), 100.0)
    state, verdict = on_cycle(POLICY, state, is_healthy=True, now=230.0)
    assert verdict is Verdict.FAILED and state.phase is Phase.FAILED


def test_a_failed_run_fails_the_verification_at_once():
    state, _ = _fire(Remediation(), 100.0)
    state, verdict = run_failed(state)
    assert verdict is Verdict.FAILED and muting(POLICY, state, fired_at=100.0, now=101.0) is None


def test_a_refused_launch_is_not_an_attempt_and_pages():
    state, _ = _fire(Remediation(attempts=(10.0,)), 100.0)
    state = launch_refused(state)
    assert state.phase is Phase.FAILED and state.attempts == (10.0,)
    assert muting(POLICY, state, fired_at=100.0, now=101.0) is None


def test_it_gives_up_after_k_attempts_within_the_window():
    state = Remediation()
    for at in (0.0, 600.0, 1200.0):
        state, is_go = _fire(state, at)
        assert is_go
        state, _ = on_cycle(POLICY, state, is_healthy=True, now=at + 30)  # fixed each time
    state, is_go = _fire(state, 1800.0)
    assert not is_go and state.phase is Phase.GIVEN_UP
    assert muting(POLICY, state, fired_at=1800.0, now=1801.0) is None  # pages at once
    # It stays given up even after the window, until it is healthy long enough.
    state, is_go = _fire(state, 9000.0)
    assert not is_go and state.phase is Phase.GIVEN_UP


def test_attempts_older_than_the_window_do_not_count():
    state = Remediation(Phase.IDLE, attempts=(0.0, 10.0, 20.0))
    state, is_go = _fire(state, 3620.0)
    assert is_go and state.attempts == (3620.0,)


def test_n_healthy_cycles_in_a_row_reset_the_count_and_end_giving_up():
    state = Remediation(Phase.GIVEN_UP, attempts=(0.0, 1.0, 2.0), episode=3.0)
    for at in range(4):
        state, verdict = on_cycle(POLICY, state, is_healthy=True, now=100.0 + at)
        assert verdict is None
    state, _ = on_cycle(POLICY, state, is_healthy=False, now=104.0)  # the streak breaks
    for at in range(4):
        state, verdict = on_cycle(POLICY, state, is_healthy=True, now=110.0 + at)
        assert verdict is None
    state, verdict = on_cycle(POLICY, state, is_healthy=True, now=114.0)
    assert verdict is Verdict.RESET and state.phase is Phase.IDLE and state.attempts == ()
    assert _fire(state, 200.0)[1]


def test_turning_unhealthy_after_a_fix_ends_the_quiet():
    state, _ = _fire(Remediation(), 100.0)
    state, _ = on_cycle(POLICY, state, is_healthy=True, now=110.0)
    state, verdict = on_cycle(POLICY, state, is_healthy=False, now=120.0)
    assert verdict is Verdict.REGRESSED
    assert muting(POLICY, state, fired_at=100.0, now=121.0) is None


def test_without_first_the_page_is_never_held():
    policy = Policy(holds_page=False)
    state, is_go = on_firing(policy, Remediation(), fired_at=0.0, now=0.0)
    assert is_go and muting(policy, state, fired_at=0.0, now=1.0) is None
