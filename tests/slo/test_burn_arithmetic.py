"""Pure SLO arithmetic: tallies, burn rates and budgets against hand computations."""

import pytest

from tasks.core.slo.budget import BurnPair, Objective, burn_down, slo_status
from tasks.core.slo.timeline import CounterTimeline, StateTimeline

HOUR, DAY = 3600.0, 86400.0
PAIRS = (
    BurnPair("page-1h", HOUR, HOUR / 12, 14.4),
    BurnPair("page-6h", 6 * HOUR, HOUR / 2, 6.0),
)
SLO = Objective("api", 0.999, 30 * DAY, PAIRS)


def minute_counters(minutes: int, error_share: float) -> CounterTimeline:
    good = [(m * 60.0, m * 1000 * (1 - error_share)) for m in range(minutes + 1)]
    total = [(m * 60.0, m * 1000.0) for m in range(minutes + 1)]
    return CounterTimeline([good], [total])


def test_a_one_percent_error_rate_burns_at_ten_times_so_only_the_six_hour_pair_fires():
    status = slo_status(SLO, minute_counters(8 * 60, 0.01), 8 * HOUR)
    burns = {b.pair.name: b for b in status.burns}
    assert burns["page-1h"].rate == pytest.approx(10.0)
    assert not burns["page-1h"].is_burning
    assert burns["page-6h"].is_burning
    assert status.budget_remaining == pytest.approx(1 - 0.01 / 0.001)  # overspent ten times


def test_a_counter_reset_counts_the_new_value_not_a_drop():
    good = [(0.0, 0.0), (60.0, 900.0), (120.0, 50.0), (180.0, 1000.0)]
    total = [(0.0, 0.0), (60.0, 1000.0), (120.0, 100.0), (180.0, 1100.0)]
    tally = CounterTimeline([good], [total]).tally(0, 180)
    assert (tally.good, tally.total) == (900 + 50 + 950, 1000 + 100 + 1000)


def test_unknown_and_late_time_is_not_counted():
    line = StateTimeline([(0, "up"), (100, "unknown"), (200, "down"), (250, "up")], end=300)
    tally = line.tally(0, 300)
    assert (tally.good, tally.total) == (150.0, 200.0)


def test_the_burn_down_spends_the_budget_minute_by_minute_during_an_outage():
    line = StateTimeline([(0, "up"), (DAY, "down"), (DAY + 600, "up")], end=2 * DAY)
    points = burn_down(SLO, line, [DAY, DAY + 300, DAY + 600, 2 * DAY])
    assert [round(v, 4) for _, v in points] == [1.0, round(1 - 300 / 2592, 4), 0.7685, 0.7685]
