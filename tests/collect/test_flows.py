"""The collect and maintenance flows under the session's Prefect test server."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from deployments.collect import collection_deployments
from flows.collect import collect
from flows.maintenance import maintenance
from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tasks.store import batch_hooks

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
    now = datetime.now(UTC).replace(second=0, microsecond=0)  # the flow reads the real clock
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
    result = maintenance(lookback_seconds=4 * 86400)
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


PAGE = "a 1\nb 2\n"
PER_TICK = 2 + 3  # the page's samples plus up, scrape_duration_seconds, scrape_samples_scraped


def scrape_only(tmp_path, url: str, interval: str = "200ms") -> str:
    """Only the scrape (no self-watch samples of its own, so each tick stores PER_TICK)."""
    return write_config(
        tmp_path,
        "self_watch: {enabled: false}\n"
        f"collectors:\n  host: {{enabled: false}}\n"
        f"  scrapes: [{{job: app, url: '{url}', interval: {interval}, timeout: 30s}}]\n",
    )


def stored_samples(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM sample").scalar_one()
    engine.dispose()
    return count


@pytest.mark.postgres
def test_a_store_outage_across_ticks_loses_nothing_within_the_backlog(
    prefect_harness, tmp_path, throwaway_pg, exposition_server, caplog, serve_with
):
    upgrade(throwaway_pg.url)
    exposition_server.page = PAGE

    def outage(scrape: int) -> None:  # the store is down for ticks 3, 4 and 5
        if scrape == 3:
            throwaway_pg.stop()
        elif scrape == 6:
            throwaway_pg.start()

    exposition_server.before_answer = outage
    serve_with(scrape_only(tmp_path, exposition_server.url), throwaway_pg.url)
    state = collect(window_seconds=1.6, return_state=True)
    assert state.is_completed()
    assert state.result() == {"ticks": 8, "samples": 8 * PER_TICK, "failed_ticks": 3, "dropped": 0}
    assert stored_samples(throwaway_pg.url) == 8 * PER_TICK
    complaints = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(": cannot write")[0] for r in complaints] == [
        f"tick {t} not stored ({PER_TICK * (t - 1)} samples wait)" for t in (2, 3, 4)
    ]  # one line per failed tick (ticks count from 0), no traceback
    assert not any("\n" in r.getMessage() for r in complaints)
    assert not any(r.exc_info or r.exc_text for r in complaints)
    store = MetricStore(make_engine(throwaway_pg.url))
    up = store.query_range('up{job="app"}', datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC))
    assert len(up) == 8  # every tick, the three the outage held back included
    store.engine.dispose()


def test_a_run_that_lost_samples_ends_failed_and_says_how_many(
    prefect_harness, tmp_path, sqlite_url, exposition_server, monkeypatch, serve_with
):
    engine = make_engine(sqlite_url)

    def break_the_store(batch) -> None:  # after the first batch, the sample table vanishes
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS sample")

    monkeypatch.setattr(batch_hooks, "SUBSCRIBERS", [break_the_store])
    exposition_server.page = PAGE
    serve_with(scrape_only(tmp_path, exposition_server.url, interval="100ms"), sqlite_url)
    state = collect(window_seconds=0.3, return_state=True)
    assert state.is_failed()
    lost = 2 * PER_TICK  # ticks 2 and 3 still waited for the store when the window ended
    assert f"{lost} samples were not stored: the store refused 2 of 3 ticks" in state.message
    engine.dispose()
