from datetime import timedelta

import numpy as np
import pytest
import yaml
from synthetic import DAY, START, seed_series

from flows.forecast import forecast
from flows.retrain import retrain
from models.analytics import ModelStatus
from models.config.analytics import AnalyticsConfig
from models.db import make_engine
from models.store import MetricStore, NewSample
from tasks.analytics.store import ANOMALY_METRIC, latest_forecast, list_versions
from tasks.analytics.watched_series import PROCESS_RSS
from tasks.core.forecast.threshold import time_to_threshold


def served_config(path, analytics: AnalyticsConfig, crossings=()) -> str:  # type: ignore[no-untyped-def]
    """Write the vigil.yaml the flows read: ``analytics:`` and a forecast rule per crossing."""
    rules = [
        {"name": f"Crossing{i}", "kind": "forecast", "series": series, "threshold": threshold}
        for i, (series, threshold) in enumerate(crossings)
    ]
    document = {"analytics": analytics.model_dump(mode="json"), "rules": rules}
    path.write_text(yaml.safe_dump(document))
    return str(path)


def test_retrain_then_forecast_writes_versions_forecasts_and_scores(
    prefect_harness, seeded, serve_with, tmp_path
):
    url, config, now = seeded
    rules = [("disk_used_ratio", 0.0), ('cpu_busy_ratio{host="elsewhere"}', 0.0)]
    serve_with(served_config(tmp_path / "vigil.yaml", config, rules), url)
    first = retrain(now)
    assert len(first) == 2 and all("first_fit, promoted" in line for line in first)
    continue_series(url, now, rows=12)  # an hour more of the same behaviour: judged, not drift
    assert all("still good" in line for line in retrain(now + timedelta(hours=1)))
    later = retrain(now + timedelta(days=2))
    assert all("schedule" in line for line in later)

    engine = make_engine(url)
    store = MetricStore(engine)
    versions = list_versions(engine)
    assert len(versions) == 4
    for series in store.find_series("{host='web-1'}"):
        current = [v for v in versions if v.series_id == series.id and v.status == "current"]
        assert len(current) == 1
    assert {v.status for v in versions} <= {
        ModelStatus.CURRENT,
        ModelStatus.RETIRED,
        ModelStatus.CANDIDATE,
    }

    written = forecast(now)
    assert written["forecast_points"] == 2 * 24 and written["anomaly_scores"] > 1000
    crossings = store.latest('vigil_forecast_crossing_seconds{threshold="0"}')
    assert list(crossings["labels"].str.contains('"metric":"disk_used_ratio"')) == [True]
    assert 0 <= crossings["value"].iloc[0] <= 3600  # already past 0: the first step crosses
    disk = store.find_series("disk_used_ratio")[0]
    points = latest_forecast(engine, disk.id)
    assert len(points) == 24 and (points["lower"] <= points["upper"]).all()
    crossing = time_to_threshold(points, float(points["yhat"].iloc[-1]), now=now)
    assert crossing.crossing_at is not None  # a rising disk reaches its own forecast end

    scores = store.query_range(
        f'{ANOMALY_METRIC}{{detector="contextual"}}', now - timedelta(days=7), now
    )
    cpu = scores[scores["labels"].str.contains("cpu_busy_ratio")]
    assert cpu["ts"].iloc[int(cpu["value"].argmax())] == now - timedelta(minutes=1 + 5 * 19)
    assert forecast(now)["anomaly_scores"] == 0  # only new samples are scored
    engine.dispose()


def continue_series(url: str, now, rows: int) -> None:  # type: ignore[no-untyped-def]
    """Write ``rows`` more samples of both seeded series after ``now``, as they behaved so far."""
    engine = make_engine(url)
    rng = np.random.default_rng(9)
    first = int((now - START).total_seconds() // 300)  # the index of the row after the last
    samples = []
    for i in range(first, first + rows):
        ts = START + timedelta(minutes=5 * i)
        cpu = 50 + 10 * np.sin(i * 2 * np.pi / DAY) + rng.normal(0, 1.0)
        disk = 0.4 + 0.0004 * i + rng.normal(0, 0.002)
        samples.append(NewSample("cpu_busy_ratio", {"host": "web-1"}, ts, float(cpu)))
        samples.append(
            NewSample("disk_used_ratio", {"host": "web-1", "mount": "/"}, ts, float(disk))
        )
    assert not MetricStore(engine).write(samples).rejected
    engine.dispose()


@pytest.fixture
def seeded(db_url):  # type: ignore[no-untyped-def]
    """A migrated store with two series, the analytics config that watches them, and 'now'."""
    engine = make_engine(db_url)
    now = seed_series(MetricStore(engine)) + timedelta(minutes=1)
    config = AnalyticsConfig(
        series=["cpu_busy_ratio", "disk_used_ratio"],
        horizon=timedelta(hours=2),
        models=["seasonal_profile", "linear_trend", "ets"],
    )
    yield db_url, config, now
    engine.dispose()


def test_every_watched_process_rss_gets_a_memory_leak_score(
    prefect_harness, db_url, serve_with, tmp_path
):
    engine = make_engine(db_url)
    store = MetricStore(engine)
    n = 3 * DAY
    rng = np.random.default_rng(11)
    rss = {
        "leaky": 2e8 + 4e4 * np.arange(n) + rng.normal(0, 1e5, n),
        "steady": 2e8 + rng.normal(0, 1e5, n),
    }
    ts = [START + timedelta(minutes=5 * i) for i in range(n)]
    store.write(
        NewSample(PROCESS_RSS, {"process": name, "target": "web-1"}, t, v)
        for name, values in rss.items()
        for t, v in zip(ts, values, strict=True)
    )
    now = ts[-1] + timedelta(minutes=1)
    quiet = AnalyticsConfig(series=[], leak_detection=False)
    serve_with(served_config(tmp_path / "quiet.yaml", quiet), db_url)
    assert forecast(now)["leak_scores"] == 0
    serve_with(served_config(tmp_path / "leaks.yaml", AnalyticsConfig(series=[])), db_url)
    assert forecast(now)["leak_scores"] == 2 * n
    latest = store.latest(f'{ANOMALY_METRIC}{{metric="{PROCESS_RSS}",detector="memory_leak"}}')
    leaky = latest["labels"].str.contains('"process":"leaky"')
    assert latest["value"][leaky].iloc[0] > 0.8 and latest["value"][~leaky].iloc[0] < 0.2
    engine.dispose()
