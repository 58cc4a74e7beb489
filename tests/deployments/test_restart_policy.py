"""When `vigil up` restarts a crashed service, and when it gives up."""

from deployments.restart_policy import RestartPolicy, after_crash
from deployments.supervisor import restart_note

POLICY = RestartPolicy(first_delay_seconds=1, max_delay_seconds=8, max_crashes=5, window_seconds=60)


def test_the_backoff_doubles_with_each_crash_in_the_window_up_to_its_cap():
    crashes: tuple[float, ...] = ()
    delays = []
    for now in (100.0, 101.0, 103.0, 107.0):
        verdict = after_crash(POLICY, crashes, now=now)
        assert not verdict.is_give_up
        delays.append(verdict.delay_seconds)
        crashes = verdict.recent_crashes
    assert delays == [1, 2, 4, 8]
    capped = RestartPolicy(first_delay_seconds=1, max_delay_seconds=3, max_crashes=10)
    assert after_crash(capped, (1.0, 2.0, 3.0), now=4.0).delay_seconds == 3


def test_the_fifth_crash_within_a_minute_gives_up_and_says_why():
    verdict = after_crash(POLICY, (100.0, 101.0, 103.0, 107.0), now=115.0)
    assert verdict.is_give_up
    assert verdict.why == "crashed 5 times within 60s"


def test_crashes_older_than_the_window_are_forgotten_and_the_backoff_starts_small_again():
    verdict = after_crash(POLICY, (10.0, 20.0, 30.0, 40.0), now=101.0)
    assert not verdict.is_give_up
    assert verdict.delay_seconds == 1
    assert verdict.recent_crashes == (101.0,)
    assert after_crash(POLICY, (41.0, 50.0, 60.0, 70.0), now=100.0).is_give_up


def test_status_names_the_restarts_and_the_last_exit():
    at = "2026-01-01T10:00:00+00:00"
    assert restart_note({"restarts": 1, "last_exit": -9, "last_exit_at": at}) == (
        f"restarted once, last exit -9 at {at}"
    )
    assert restart_note({"restarts": 2, "last_exit": 1, "last_exit_at": at}) == (
        f"restarted 2 times, last exit 1 at {at}"
    )
    assert restart_note({"restarts": 0, "last_exit": None, "last_exit_at": None}) == ""
