"""The tick scheduler, restart counts carried across runs, the CLI, Vigil's own counts."""

import logging
from datetime import UTC, datetime

import httpx
from typer.testing import CliRunner

from models.config import parse_config
from models.db import make_engine
from models.metrics import MetricKind
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tasks.collect.tick import Collection, Tick, collect_tick
from tasks.collect.window import restart_counts
from tasks.core.collect.backlog import Backlog
from tasks.core.collect.process_tracking import WatchState
from tasks.store.own_metrics import OwnMetrics
from tasks.store.shared_counters import SAMPLES_DROPPED, SCRAPE_FAILURES, read
from vigil.cli import app


def test_collectors_run_when_due_on_a_grid_that_a_slow_tick_does_not_shift():
    config = parse_config(
        "collectors:\n  host: {enabled: false}\n"
        "  scrapes:\n"
        "    - {job: a, url: 'http://127.0.0.1:9/metrics', interval: 1s}\n"
        "    - {job: b, url: 'http://127.0.0.1:9/metrics', interval: 3s}\n"
    )
    with httpx.Client() as client:
        collection = Collection.from_config(config, client)
        due = [k for k, s in collection.intervals().items() if collection.is_due(k, s, 100.0)]
        assert due == ["scrape:0", "scrape:1"]
        # a tick 0.4 s late, then one on time: the 1 s scrape stays on its grid
        assert collection.is_due("scrape:0", 1.0, 101.4)
        assert collection.is_due("scrape:0", 1.0, 102.0)
        assert not collection.is_due("scrape:1", 3.0, 102.0)
        assert collection.is_due("scrape:1", 3.0, 102.99)  # a few ms early still counts


def test_restart_counts_continue_from_what_the_store_holds(store):
    labels = {"target": "h", "process": "web"}
    store.write(
        [
            NewSample("process_restarts_total", labels, 1.0, 4, MetricKind.COUNTER),
            NewSample("process_pid", labels, 1.0, 321),
            NewSample("process_restarts_total", labels, 2.0, 5, MetricKind.COUNTER),
            NewSample("process_pid", labels, 2.0, 322),
        ]
    )
    assert restart_counts(store) == {"web": WatchState(pid=322, restarts=5)}


def test_collect_once_stores_host_metrics_from_the_command_line(tmp_path):
    config = tmp_path / "vigil.yaml"
    config.write_text("collectors:\n  host: {target: cli-box}\n")
    url = f"sqlite:///{tmp_path / 'v.db'}"
    upgrade(url)
    result = CliRunner().invoke(app, ["collect", "once", "--config", str(config), "--db", url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("stored ")
    assert int(result.output.split()[1]) > 10


def test_own_counts_wait_in_memory_while_the_store_is_away_and_reach_it_once(tmp_path):
    own = OwnMetrics()
    own.count(SAMPLES_DROPPED, 3, source="collect")
    own.count(SCRAPE_FAILURES, job="node")
    away = make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}")  # no own_counter table
    assert not own.flush(away)
    assert len(own.pending()) == 2  # nothing lost
    url = f"sqlite:///{tmp_path / 'v.db'}"
    upgrade(url)
    engine = make_engine(url)
    assert own.flush(engine) and own.flush(engine)  # the second finds nothing to add
    assert own.pending() == {}
    assert read(engine) == {
        SAMPLES_DROPPED: {'{"source": "collect"}': 3.0},
        SCRAPE_FAILURES: {'{"job": "node"}': 1.0},
    }
    away.dispose()
    engine.dispose()


def test_a_late_tick_still_runs_what_was_due_at_its_slot_and_stamps_the_real_time():
    config = parse_config(
        "collectors:\n  host: {enabled: false}\n"
        "  scrapes: [{job: a, url: 'http://127.0.0.1:9/metrics', interval: 1s}]\n"
    )
    with httpx.Client() as client:
        collection = Collection.from_config(config, client)
        first = collection.collect_due(105.0, slot_s=100.0)  # both ticks start late...
        second = collection.collect_due(105.01, slot_s=101.0)  # ...and back to back
    assert [s.ts for s in first if s.name == "up"] == [105.0]
    assert [s.ts for s in second if s.name == "up"] == [105.01]


def test_ticks_the_store_refuses_wait_in_the_backlog_and_beyond_its_limit_the_oldest_go(
    tmp_path, exposition_server, caplog
):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    upgrade(url)
    store = MetricStore(make_engine(url))
    exposition_server.page = "a 1\nb 2\n"  # 5 samples a tick, with up and the scrape's own two
    config = parse_config(
        "collectors:\n  host: {enabled: false}\n"
        f"  scrapes: [{{job: a, url: '{exposition_server.url}', interval: 1s}}]\n"
    )
    backlog = Backlog(limit=12)

    def tick(second: int) -> Tick:
        now = datetime.fromtimestamp(1_800_000_000 + second, UTC)
        return collect_tick.fn(collection, store, now, now.timestamp(), backlog=backlog)

    def rename(table: str, to: str) -> None:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {to}")

    with httpx.Client() as client:
        collection = Collection.from_config(config, client)
        rename("sample", "sample_away")  # the outage
        for second in range(3):
            with caplog.at_level(logging.WARNING):
                assert "no such table: sample" in (tick(second).store_error or "")
        # 7 a tick: the 5 scraped and the tick's own two (vigil_collect_tick, vigil_store_up)
        assert (len(backlog), backlog.dropped) == (12, 9)  # 21 collected, the 9 oldest dropped
        assert "dropped the 2 oldest" in caplog.text and "dropped the 7 oldest" in caplog.text
        rename("sample_away", "sample")  # the store is back
        assert tick(3) == Tick(12 + 7)
    assert len(backlog) == 0
    up = store.query_range("up", datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
    assert [ts.timestamp() for ts in up["ts"]] == [1_800_000_001, 1_800_000_002, 1_800_000_003]
    store.engine.dispose()
