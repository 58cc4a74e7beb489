"""Vigil's own counters move once per event, counted in one process and scraped from another.

The events run in this test process through the real write paths (a check round
against a closed port, an alert that fires and resolves, one delivered and one failed
notification, a recovery run that ends); ``/metrics`` is read from a real push server
started as a separate process on the same store.
"""

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from models.config import parse_config
from models.config.collectors import Retention
from models.db import make_engine
from models.recovery import RunState
from models.settings import get_settings
from models.store import MetricStore, NewSample
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.checks.store import CheckStore
from tasks.checks.window import spec_of
from tasks.collect.tick import Collection, collect_tick
from tasks.core.checks.machine import Outcome
from tasks.core.checks.round import resolve
from tasks.core.collect.backlog import Backlog
from tasks.core.resilience.breaker import BreakerParams
from tasks.notify.channels import ChannelSpec
from tasks.notify.outbox import OUTBOX, Message, Outbox, enqueue
from tasks.recovery.store import admit, finish
from tasks.store import shared_counters
from tasks.store.batch import store_batch
from tasks.store.flow_timing import timed_run
from tasks.store.own_metrics import OWN_METRICS
from tasks.store.retention import trim_everything
from tasks.store.upkeep import apply_retention
from tests.alerting.helpers import T0, Webhook, write
from tests.checks.rounds import run_round
from tests.ports import free_port

VIGIL = [sys.executable, "-m", "vigil.cli"]
Samples = dict[tuple[str, frozenset], float]


@pytest.fixture
def metrics_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """The ``/metrics`` of a push server running in its own process on ``db_url``."""
    port = free_port()
    config = tmp_path / "push.yaml"
    # No rules, no self-watch: this process only serves /metrics. (An alert engine here
    # would deliver the test's notices with a config that has none of their channels.)
    config.write_text(
        f"collectors:\n  push:\n    port: {port}\n    tokens: [{{name: t, token: secret}}]\n"
        "self_watch: {enabled: false}\n"
    )
    server = subprocess.Popen(
        [*VIGIL, "collect", "push-server", "--config", str(config), "--db", db_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        _wait_until_up(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    # the push server is Vigil's whole API now: it imports more before it listens
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the push server exited"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the push server did not answer within 60 s")


def scrape(url: str) -> Samples:
    """Every sample on ``/metrics``: {(name, labels): value}."""
    text = httpx.get(url, timeout=5).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def moved(before: Samples, after: Samples) -> dict[tuple[str, frozenset], float]:
    """The samples that changed, with how much (new ones from 0)."""
    return {
        key: value - before.get(key, 0.0)
        for key, value in after.items()
        if key[0].startswith("vigil_") and (key not in before or value != before[key])
    }


def key(name: str, **labels: str) -> tuple[str, frozenset]:
    return name, frozenset(labels.items())


def run_one_check_round(db_url: str, closed_port: int) -> None:
    config = parse_config(
        "checks:\n  - {name: port, type: tcp, target: app, host: 127.0.0.1, "
        f"port: {closed_port}, max_attempts: 1, interval: 30s}}\n"
    )
    engine = make_engine(db_url)
    store = MetricStore(engine)

    run_round(config, engine, store, datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    engine.dispose()


def fire_and_resolve_one_alert(db_url: str) -> None:
    rules = 'rules:\n  - {name: ApiDown, series: api_up, op: "<", value: 1, severity: critical}\n'
    db = make_engine(db_url)
    engine = AlertEngine(db, build_plan(parse_config(rules)), store=MetricStore(db), emit=None)
    write(engine, T0, [("api_up", {"target": "api"}, 0.0)])
    write(engine, T0 + 60, [("api_up", {"target": "api"}, 1.0)])
    engine.outbox.stop()
    db.dispose()


def deliver_one_notice_and_fail_one(db_url: str, webhook: Webhook) -> None:
    db = make_engine(db_url)
    closed = f"json://127.0.0.1:{free_port()}/x"
    outbox = Outbox(db, {"ok": webhook.url, "down": closed})
    with db.begin() as conn:
        enqueue(conn, [Message("ok", "firing", "t", "b"), Message("down", "firing", "t", "b")], T0)
    outbox.deliver_due(T0)
    outbox.drain()  # a loaded machine may still be failing to reach the closed port
    with db.connect() as conn:
        statuses = sorted(conn.execute(select(OUTBOX.c.channel, OUTBOX.c.status)).all())
    assert [tuple(row) for row in statuses] == [("down", "pending"), ("ok", "sent")]
    db.dispose()


def end_one_recovery_run(db_url: str) -> None:
    procedure = parse_config(
        "procedures:\n  - name: restart\n    steps: [{type: wait, duration: 1s}]"
    ).procedures[0]
    db = make_engine(db_url)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    run, why = admit(db, procedure, "web-1", trigger="cli", labels={}, now=now)
    assert run is not None and run.id is not None, why
    finish(db, procedure, run.id, RunState.SUCCEEDED, "ok", now=now + timedelta(seconds=5))
    db.dispose()


@pytest.mark.slow  # starts a push server process
def test_each_counter_moves_by_one_when_its_event_happens_in_another_process(db_url, metrics_url):
    text = httpx.get(metrics_url, timeout=5).text
    for name in shared_counters.HELP:  # listed before their first event
        assert f"# TYPE {name}_total counter" in text or f"# TYPE {name} counter" in text
    assert "vigil_own_metrics_readable 1.0" in text
    before = scrape(metrics_url)
    run_one_check_round(db_url, free_port())
    fire_and_resolve_one_alert(db_url)
    webhook = Webhook()
    webhook.start()
    try:
        deliver_one_notice_and_fail_one(db_url, webhook)
    finally:
        webhook.stop()
    end_one_recovery_run(db_url)
    after = scrape(metrics_url)
    changes = moved(before, after)
    changes.pop(key("vigil_outbox_oldest_age_seconds"), None)  # moves with the clock: read it below
    health = changes.pop(key("vigil_health_score", target="app"))
    assert 0 <= health < 100  # its only check is down
    assert after[key("vigil_outbox_oldest_age_seconds")] > 0  # down's notice waits
    assert changes == {
        key("vigil_checks_run_total", state="down"): 1.0,
        key("vigil_alerts_raised_total", severity="critical"): 1.0,
        key("vigil_alerts_resolved_total", severity="critical"): 1.0,
        key("vigil_notifications_sent_total", channel="ok"): 1.0,
        key("vigil_notifications_failed_total", channel="down", retried="true"): 1.0,
        key("vigil_channel_breaker_state", channel="down"): 0.0,  # closed, one failure
        key("vigil_outbox_depth"): 1.0,
        key("vigil_recoveries_run_total", procedure="restart", outcome="succeeded"): 1.0,
    }


@pytest.mark.slow  # starts a push server process
def test_retention_counts_the_rows_it_deleted_per_table(db_url, metrics_url):
    run_one_check_round(db_url, free_port())
    before = scrape(metrics_url)
    engine = make_engine(db_url)
    later = datetime(2026, 11, 23, 12, 0, tzinfo=UTC) + timedelta(days=400)
    deleted = trim_everything(engine, later, Retention())
    engine.dispose()
    changes = moved(before, scrape(metrics_url))
    assert deleted["check_result"] >= 1  # the round's result aged out
    assert changes == {
        key("vigil_retention_rows_deleted_total", table=table): float(rows)
        for table, rows in deleted.items()
        if rows
    }


def write_one_good_and_one_refused_sample(db_url: str) -> None:
    db = make_engine(db_url)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    samples = [NewSample("pushed", {}, now, 1.0), NewSample("pushed", {}, now, float("nan"))]
    store_batch(MetricStore(db), samples, source="push", now=now)
    db.dispose()


def fail_one_tick_then_store_the_next(db_url: str, tmp_path: Path) -> int:
    """One refused write, one failed scrape, samples dropped beyond a backlog of 1; a write.

    Returns how many samples were dropped."""
    config = parse_config(
        "collectors:\n  host: {enabled: false}\n  scrapes:\n"
        f"    - {{job: gone, url: 'http://127.0.0.1:{free_port()}/metrics', interval: 1s}}\n"
    )
    away = MetricStore(make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}"))
    backlog = Backlog(limit=1)
    with httpx.Client() as client:
        collection = Collection.from_config(config, client)
        tick = collect_tick.fn(collection, away, datetime.now(UTC), 0.0, backlog=backlog)
    assert tick.store_error and backlog.dropped >= 1
    away.engine.dispose()
    db = make_engine(db_url)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    store_batch(MetricStore(db), [NewSample("after", {}, now, 1.0)], source="collect", now=now)
    db.dispose()
    return backlog.dropped


def store_one_late_check(db_url: str) -> None:
    config = parse_config(
        "checks:\n  - {name: slow, type: tcp, target: app, host: 127.0.0.1, port: 9}\n"
    )
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    late = Outcome(False, "late: waited 1.0 s", is_late=True)
    resolved = resolve([spec_of(config.checks[0])], {}, {"slow": late}, maintenance={}, now=now)
    db = make_engine(db_url)
    CheckStore(db).record(resolved, [], now)
    db.dispose()


def limit_one_hold_one_and_leave_one_waiting(db_url: str, webhook: Webhook) -> None:
    """Channel ``few`` (1 an hour) sends its first notice and suppresses the second;
    ``shut``'s open breaker holds its notice, which waits in the outbox."""
    db = make_engine(db_url)
    channels = {
        "few": ChannelSpec(webhook.url, rate_limit=1),
        "shut": ChannelSpec(f"json://127.0.0.1:{free_port()}/x", breaker=BreakerParams(1, 3600)),
    }
    outbox = Outbox(db, channels)
    with db.begin() as conn:
        enqueue(conn, [Message("few", "firing", "a", "b"), Message("shut", "firing", "t", "b")], T0)
    outbox.deliver_due(T0)  # few: sent; shut: fails once, its breaker opens
    outbox.drain()
    with db.begin() as conn:
        enqueue(conn, [Message("few", "firing", "c", "d")], T0 + 1)
    outbox.deliver_due(T0 + 10)  # few: over its limit (summary sent); shut: due, but held
    outbox.drain()
    db.dispose()


def run_one_timed_flow(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        assert timed_run("probe")(lambda: 42)() == 42
    finally:
        get_settings.cache_clear()


def delete_one_old_sample(db_url: str) -> dict[str, int]:
    """Only the one sample is old enough (the other events' rows are younger or kept)."""
    db = make_engine(db_url)
    old = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    MetricStore(db).write([NewSample("old", {}, old, 1.0)])
    kept = timedelta(days=3650)  # the notices and breaker changes above are months old
    retention = Retention(raw=timedelta(days=1), notifications=kept, breaker_events=kept)
    deleted = apply_retention.fn(db, old + timedelta(days=2), retention)
    db.dispose()
    return {table: rows for table, rows in deleted.items() if rows}


@pytest.mark.slow  # starts a push server process
def test_the_process_local_counts_summaries_and_gauges_move_once_per_event_in_another_process(
    db_url, metrics_url, tmp_path, monkeypatch
):
    db = make_engine(db_url)
    OWN_METRICS.flush(db)  # what earlier tests in this process left waiting
    db.dispose()
    before = scrape(metrics_url)
    write_one_good_and_one_refused_sample(db_url)
    dropped = fail_one_tick_then_store_the_next(db_url, tmp_path)
    store_one_late_check(db_url)
    webhook = Webhook()
    webhook.start()
    try:
        limit_one_hold_one_and_leave_one_waiting(db_url, webhook)
    finally:
        webhook.stop()
    run_one_timed_flow(db_url, monkeypatch)
    assert delete_one_old_sample(db_url) == {"sample": 1}
    after = scrape(metrics_url)
    changes = moved(before, after)
    changes.pop(key("vigil_outbox_oldest_age_seconds"), None)  # moves with the clock: read it below

    write_sum, flow_sum = "vigil_store_write_seconds_sum", "vigil_flow_run_duration_seconds_sum"
    latency = {k[1]: changes.pop(k) for k in list(changes) if k[0] == write_sum}
    assert set(latency) == {frozenset({("source", s)}) for s in ("push", "collect")}
    assert all(0 < seconds < 5 for seconds in latency.values())
    (flow_seconds,) = [changes.pop(k) for k in list(changes) if k[0] == flow_sum]
    assert 0 <= flow_seconds < 5
    assert after[key("vigil_outbox_oldest_age_seconds")] > 0  # shut's notice still waits
    assert changes == {
        key("vigil_samples_collected_total", source="push"): 1.0,
        key("vigil_samples_rejected_total", source="push"): 1.0,
        key("vigil_store_write_seconds_count", source="push"): 1.0,
        key("vigil_store_write_failures_total", source="collect"): 1.0,
        key("vigil_samples_dropped_total", source="collect"): float(dropped),
        key("vigil_scrape_failures_total", job="gone"): 1.0,
        key("vigil_samples_collected_total", source="collect"): 1.0,
        key("vigil_store_write_seconds_count", source="collect"): 1.0,
        key("vigil_checks_late_total"): 1.0,
        key("vigil_notifications_sent_total", channel="few"): 2.0,  # its notice, then the summary
        key("vigil_notifications_rate_limited_total", channel="few"): 1.0,
        key("vigil_notifications_failed_total", channel="shut", retried="true"): 1.0,
        key("vigil_notifications_held_total", channel="shut"): 1.0,
        key("vigil_channel_breaker_state", channel="shut"): 2.0,
        key("vigil_outbox_depth"): 1.0,
        key("vigil_flow_run_duration_seconds_count", flow="probe", outcome="completed"): 1.0,
        key("vigil_retention_rows_deleted_total", table="sample"): 1.0,
    }
