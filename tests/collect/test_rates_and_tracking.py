from datetime import UTC, datetime, timedelta

import pytest

from models.vocabulary.resolution import Resolution, choose_resolution
from tasks.core.collect.process_tracking import WatchState, observe
from tasks.core.collect.rates import counter_increase, counter_rate, cpu_mode_percent, delta_rate


def test_counter_rate_counts_through_a_reset():
    # 100 -> 160 (+60), reset, 0 -> 30 (+30), 30 -> 90 (+60) over 30 s
    assert counter_rate([(0, 100), (10, 160), (20, 30), (30, 90)]) == pytest.approx(5.0)
    assert counter_increase([5, 5, 5]) == 0
    assert counter_rate([(0, 1)]) is None
    assert counter_rate([(5, 1), (5, 2)]) is None
    assert delta_rate(10, 20, 0) is None


def test_cpu_shares_of_an_idle_interval_are_zero_not_a_division_error():
    assert cpu_mode_percent({"user": 1.0}, {"user": 1.0}) == {"user": 0.0}


def test_a_new_pid_after_a_known_one_is_a_restart_and_the_same_pid_is_not():
    state = WatchState()
    for pid in [None, 10, 10, None, None, 11, 12, 12]:
        state = observe(state, pid)
    assert state == WatchState(pid=12, restarts=2)


NOW = datetime(2026, 6, 1, tzinfo=UTC)
KEEP = {"now": NOW, "raw_keep": timedelta(days=7), "minute_keep": timedelta(days=30)}


@pytest.mark.parametrize(
    ("start_ago", "span", "expected"),
    [
        (timedelta(hours=6), timedelta(hours=6), Resolution.RAW),
        (timedelta(hours=7), timedelta(hours=7), Resolution.MINUTE),
        (timedelta(days=8), timedelta(hours=1), Resolution.MINUTE),  # raw already trimmed
        (timedelta(days=7), timedelta(days=7), Resolution.MINUTE),
        (timedelta(days=8), timedelta(days=8), Resolution.HOUR),
        (timedelta(days=31), timedelta(hours=1), Resolution.HOUR),
    ],
)
def test_the_span_and_retention_choose_the_resolution(start_ago, span, expected):
    start = NOW - start_ago
    assert choose_resolution(start, start + span, **KEEP) is expected
