"""The collect and maintenance flows under the session's Prefect test server."""

from datetime import UTC, datetime, timedelta

import pytest

from deployments.collect import collection_deployments
from flows.collect import collect
from flows.maintenance import maintenance
from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tasks import batch_hooks

pytestmark = pytest.mark.slow


def write_config(tmp_path, body: str):
    path = tmp_path / "vigil.yaml"
    path.write_text(body)
    return str(path)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    return url


def test_one_collect_run_writes_several_ticks_and_publishes_each_batch(
    prefect_harness, tmp_path, sqlite_url, exposition_server, children, monkeypatch, serve_with
):
    batches: list = []
    monkeypatch.setattr(batch_hooks, "SUBSCRIBERS", [batches.append])
    exposition_server.page = "# TYPE hits counter\nhits_total 5\n"
    child = children.python(f"flowtest-{children.token}")
    config = write_config(
        tmp_path,
        f"""
labels: {{site: lab}}
collectors:
  host: {{interval: 200ms, target: box}}
  processes:
    interval: 200ms
    watch:
      - name: worker
        cmdline: "flowtest-{children.token}"
  scrapes:
    - job: app
      url: {exposition_server.url}
      interval: 200ms
  run_window: 1h
""",
    )
    serve_with(config, sqlite_url)
    state = collect(window_seconds=0.6, return_state=True)
    assert state.is_completed()
    assert state.result()["ticks"] == 3
    assert [b.source for b in batches] == ["collect"] * 3
    assert len({b.now for b in batches}) == 3
    store = MetricStore(make_engine(sqlite_url))
    up = store.query_range(
        'up{job="app", site="lab"}', datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC)
    )
    assert list(up["value"]) == [1.0, 1.0, 1.0]
    assert (
        len(
            store.query_range(
                'process_up{process="worker"}', datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC)
            )
        )
        == 3
    )
    assert store.find_series('host_cpu_percent{target="box", cpu="total", mode="user"}')
    assert sum(len(b.samples) for b in batches) == state.result()["samples"]
    assert list(store.latest('process_pid{process="worker"}')["value"]) == [child.pid]
    store.engine.dispose()


def test_maintenance_rolls_up_then_trims_by_the_configured_retention(
    prefect_harness, tmp_path, sqlite_url, serve_with
):
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    store = MetricStore(make_engine(sqlite_url))
    old, recent = now - timedelta(days=3), now - timedelta(minutes=30)
    store.write(
        [NewSample("load", {}, (old + timedelta(seconds=s)).timestamp(), 1.0) for s in (0, 10)]
    )
    store.write(
        [NewSample("load", {}, (recent + timedelta(seconds=s)).timestamp(), 2.0) for s in (0, 10)]
    )
    config = write_config(tmp_path, "collectors:\n  retention: {raw: 2d, rollup_1m: 10d}\n")
    serve_with(config, sqlite_url)
    result = maintenance(lookback_seconds=4 * 86400, now=now)
    assert result["rollup_1m"] == 2 and result["deleted_sample"] == 2
    raw = store.query_range("load", now - timedelta(days=5), now)
    assert list(raw["value"]) == [2.0, 2.0]
    minutes = store.query_range("load", now - timedelta(days=5), now, resolution="1m")
    assert list(minutes["count"]) == [2, 2]
    store.engine.dispose()


def test_collect_runs_back_to_back_windows_and_maintenance_hourly(prefect_harness):
    config = parse_config("collectors:\n  run_window: 10m\n")
    collect_dep, maintenance_dep = collection_deployments(config)
    assert collect_dep.name == "collect"
    assert collect_dep.schedules[0].schedule.interval == timedelta(minutes=10)
    assert collect_dep.parameters == {}  # the config and the store are the worker's own
    assert maintenance_dep.schedules[0].schedule.interval == timedelta(hours=1)


def test_a_store_outage_mid_window_costs_those_ticks_not_the_run(
    prefect_harness, tmp_path, sqlite_url, monkeypatch, serve_with
):
    engine = make_engine(sqlite_url)

    def break_the_store(batch) -> None:  # after the first batch, the sample table vanishes
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS sample")

    monkeypatch.setattr(batch_hooks, "SUBSCRIBERS", [break_the_store])
    config = write_config(tmp_path, "collectors:\n  host: {interval: 100ms}\n")
    serve_with(config, sqlite_url)
    state = collect(window_seconds=0.3, return_state=True)
    assert state.is_completed()
    assert state.result()["ticks"] == 3
    assert state.result()["failed_ticks"] == 2
    engine.dispose()
