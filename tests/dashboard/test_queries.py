import doctest
from datetime import UTC, datetime, timedelta

import pytest

from app import auth, charts, page, timerange
from models.store import NewSample
from tasks import queries

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("module", [auth, charts, page, queries.metrics, queries.runs, timerange])
def test_the_examples_in_dashboard_docstrings_hold(module):
    result = doctest.testmod(module)
    assert result.attempted and not result.failed


def test_history_is_averaged_into_buckets_with_their_extremes(store):
    store.write(
        [NewSample("load", {"host": "a"}, START + timedelta(seconds=s), s) for s in range(0, 120)]
    )
    series = queries.metrics.find_series(store.engine, queries.metrics.build_selector("load", {}))
    frame, step, _ = queries.metrics.series_history(
        store.engine, series, START, START + timedelta(seconds=119), max_points=2
    )
    assert step == 60_000
    assert list(frame["value"]) == [29.5, 89.5]
    assert list(frame["min"]) == [0, 60]
    assert list(frame["max"]) == [59, 119]
    assert list(frame["ts"]) == [START, START + timedelta(minutes=1)]
    assert set(frame["labels"]) == {'{"host":"a"}'}


def test_label_filters_select_series(store):
    store.write(
        [NewSample("up", {"job": j, "env": e}, START, 1) for j in ("api", "db") for e in "xy"]
    )
    values = queries.metrics.label_values(store.engine, "up")
    assert values == {"env": ["x", "y"], "job": ["api", "db"]}
    picked = queries.metrics.build_selector("up", {"job": ["db"], "env": ["x", "y"]})
    assert [s.labels for s in queries.metrics.find_series(store.engine, picked)] == [
        {"env": "x", "job": "db"},
        {"env": "y", "job": "db"},
    ]


def test_last_sample_is_the_newest_of_any_series(store):
    assert queries.metrics.last_sample_at(store.engine) is None
    store.write(
        [
            NewSample("a", {}, START, 1),
            NewSample("b", {}, START + timedelta(hours=1), 1),
            NewSample("a", {}, START + timedelta(minutes=5), 1),
        ]
    )
    assert queries.metrics.last_sample_at(store.engine) == START + timedelta(hours=1)


def test_thresholds_come_from_the_rules_that_watch_the_charted_series():
    from models.metrics import MetricKind
    from models.store import SeriesInfo

    cpu = SeriesInfo(1, "cpu", {"host": "db-1"}, MetricKind.GAUGE, "")
    rules = [
        {"name": "HighCpu", "kind": "threshold", "series": 'cpu{host=~"db.*"}', "value": 0.9},
        {"name": "CpuSoon", "kind": "forecast", "series": "cpu", "threshold": 0.95},
        {"name": "WebCpu", "kind": "threshold", "series": 'cpu{host="web-1"}', "value": 0.8},
        {"name": "Quiet", "kind": "absence", "series": "cpu", "for": "5m"},
    ]
    found = queries.alerting.rule_thresholds(rules, [cpu])
    assert found[["rule", "value"]].values.tolist() == [["HighCpu", 0.9], ["CpuSoon", 0.95]]


def test_minute_charts_read_rollups_then_raw_samples_after_the_newest_rollup(store):
    from models.rollups import roll_up
    from models.vocabulary.resolution import Resolution

    samples = [NewSample("load", {}, START + timedelta(seconds=10 * i), i % 6) for i in range(360)]
    store.write(samples)  # an hour of 10 s samples: 0..5 repeating, average 2.5
    half = START + timedelta(minutes=30)
    roll_up(store.engine, round(START.timestamp() * 1000), round(half.timestamp() * 1000))
    series = queries.metrics.find_series(store.engine, queries.metrics.build_selector("load", {}))
    end = START + timedelta(minutes=59, seconds=50)
    history = queries.metrics.series_history(
        store.engine, series, START, end, resolution=Resolution.MINUTE, max_points=6
    )
    assert history.sources == (Resolution.MINUTE, Resolution.RAW)
    assert history.step_ms == 600_000
    assert list(history.frame["value"]) == [2.5] * 6
    assert list(history.frame["min"]) == [0] * 6 and list(history.frame["max"]) == [5] * 6
