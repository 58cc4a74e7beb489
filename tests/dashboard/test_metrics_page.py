import io
from datetime import UTC, datetime, time, timedelta

import pandas as pd

from models.store import NewSample
from tasks import queries
from tests.dashboard.helpers import open_page, seed_metrics


def chart_specs(at) -> list:  # type: ignore[no-untyped-def]
    return [e for e in at.main.get("vega_lite_chart")]


def test_metrics_page_of_an_empty_store_says_what_to_do(db_url, dashboard_env):
    dashboard_env(db_url)
    at = open_page("views/metrics.py")
    assert not at.exception
    assert "No metrics stored yet" in at.info[0].value
    assert not chart_specs(at)


def test_it_charts_the_picked_series_over_the_picked_range(store, db_url, dashboard_env):
    seed_metrics(store)
    dashboard_env(db_url)
    at = open_page("views/metrics.py")
    assert not at.exception
    assert at.selectbox(key="metric").options == ["cpu_busy_ratio", "disk_used_bytes"]
    assert at.multiselect(key="label:cpu_busy_ratio:host").options == ["db-1", "web-1"]
    assert len(chart_specs(at)) == 1
    # last 24 hours of two series sampled every minute, averaged into 3-minute points
    points, rest = at.main.caption[0].value.split(" points, ")
    assert 2 * 480 <= int(points) <= 2 * 482
    assert rest == "2 series; each point averages 3m of raw samples."
    assert at.get("download_button")[0].label == "Download CSV"

    at.multiselect(key="label:cpu_busy_ratio:host").select("db-1").run()
    assert "1 series" in at.main.caption[0].value
    at.selectbox(key="range").select("Last hour").run()
    assert at.main.caption[0].value == "60 points, 1 series; each point averages 6s of raw samples."


def test_a_custom_range_must_end_after_it_starts(store, db_url, dashboard_env):
    seed_metrics(store)
    dashboard_env(db_url)
    at = open_page("views/metrics.py")
    at.selectbox(key="range").select("Custom").run()
    assert not at.exception
    day = datetime.now(UTC).date()
    at.date_input(key="start_day").set_value(day - timedelta(days=1))
    at.date_input(key="end_day").set_value(day)
    at.time_input(key="end_time").set_value(time(0)).run()
    assert at.main.caption[0].value.endswith("each point averages 3m of raw samples.")
    at.date_input(key="start_day").set_value(day + timedelta(days=1)).run()
    assert "ends before it starts" in at.error[0].value
    assert not chart_specs(at)


def test_a_range_without_samples_says_so(store, db_url, dashboard_env):
    store.write([NewSample("up", {"job": "x"}, datetime.now(UTC) - timedelta(days=3), 1.0)])
    dashboard_env(db_url)
    at = open_page("views/metrics.py")
    assert "No samples of `up`" in at.info[0].value


def test_it_caps_the_chart_at_twenty_series(store, db_url, dashboard_env):
    store.write([NewSample("up", {"job": f"j{i:02}"}, datetime.now(UTC), 1.0) for i in range(25)])
    dashboard_env(db_url)
    at = open_page("views/metrics.py")
    assert "25 series match; showing the first 20" in at.warning[0].value
    assert at.main.caption[0].value.startswith("20 points, 20 series")


def test_the_csv_export_holds_the_charted_points(store, db_url):
    seed_metrics(store)
    series = queries.metrics.find_series(
        store.engine, queries.metrics.build_selector("cpu_busy_ratio", {})
    )
    end = datetime.now(UTC)
    frame = queries.metrics.series_history(
        store.engine, series, end - timedelta(hours=1), end
    ).frame
    exported = pd.read_csv(io.StringIO(queries.metrics.history_csv(frame)))
    assert list(exported.columns) == ["ts", "name", "labels", "value", "min", "max"]
    assert len(exported) == len(frame)
    assert set(exported["labels"]) == {'{"host":"db-1"}', '{"host":"web-1"}'}
