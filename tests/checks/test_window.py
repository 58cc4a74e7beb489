"""Windows of checks against real servers and a real store: states, dependencies, storage, seam."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models.checks import CheckResult, HealthScoreRecord
from models.config import parse_config
from models.db import make_engine
from models.store import MetricStore
from tasks.checks.context import ProbeContext
from tasks.checks.status_store import current_states, newest_scores, score_history
from tasks.checks.store import CheckStore
from tasks.checks.window import CheckWindow
from tasks.store import batch_hooks, shared_counters
from tests.checks.loopback import Answer


class Clock:
    """A clock the test moves; the window reads it, nothing sleeps to make time pass."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def published(monkeypatch):
    """Every batch handed to the alerting seam."""
    batches = []
    monkeypatch.setattr(batch_hooks, "SUBSCRIBERS", [batches.append])
    return batches


def config_for(http_server, tcp_listener, extra=""):
    return parse_config(f"""
checks:
  - name: port
    type: tcp
    target: app
    component: network
    host: 127.0.0.1
    port: {tcp_listener.port}
    max_attempts: 1
    interval: 30s
  - name: health
    type: http
    target: app
    url: {http_server.base_url}/health
    depends_on: [port]
    max_attempts: 2
    recover_after: 2
    interval: 30s
    labels: {{team: shop}}
{extra}""")


def run_round(config, engine, clock, *, force=False, tick_s=1.0):
    store = MetricStore(engine)
    ctx = ProbeContext(store=store)
    recorder = CheckStore(engine, store)

    async def main():
        window = CheckWindow(config, recorder, ctx, clock=clock, tick_s=tick_s)
        try:
            return await window.run(0, force=force)
        finally:
            await ctx.aclose()

    return asyncio.run(main())


def statuses(batch):
    return {r.check: (r.status.value, r.is_hard) for r in batch.check_results}


def test_soft_hard_states_and_dependencies_over_rounds(
    db_url, http_server, tcp_listener, published
):
    http_server.answers["/health"] = Answer()
    config = config_for(http_server, tcp_listener)
    engine, clock = make_engine(db_url), Clock()

    def next_round():
        clock.now += timedelta(seconds=30)
        run_round(config, engine, clock)
        return statuses(published[-1])

    assert next_round() == {"port": ("up", True), "health": ("up", True)}
    tcp_listener.close()
    http_server.answers["/health"] = Answer(502, "bad gateway")
    assert next_round() == {"port": ("down", True), "health": ("unreachable", True)}
    tcp_listener.open()
    assert next_round() == {"port": ("up", True), "health": ("down", False)}
    assert next_round()["health"] == ("down", True)
    http_server.answers["/health"] = Answer()
    assert next_round()["health"] == ("down", True)  # 1 of 2 passes toward recovery
    assert next_round()["health"] == ("up", True)

    report = published[3].check_results[-1]
    assert report.labels == {"team": "shop"} and report.target == "app"
    assert report.at == datetime(2026, 11, 23, 12, 2, tzinfo=UTC)
    with engine.connect() as conn:
        rows = conn.execute(select(CheckResult).order_by(CheckResult.id)).all()
        assert len(rows) == 12
        soft = [r for r in rows if r.check == "health" and r.status == "down"]
        assert [(r.attempt, r.is_hard) for r in soft] == [(1, False), (2, True), (2, True)]
        assert soft[0].message.startswith("soft failure 1/2: status 502, expected 200")
    states = {s.check: s for s in current_states(engine)}
    assert states["health"].status == "up" and states["port"].status == "up"
    engine.dispose()


def test_results_scores_and_samples_are_stored_and_published(
    db_url, http_server, tcp_listener, published
):
    http_server.answers["/health"] = Answer(500)
    config = config_for(
        http_server,
        tcp_listener,
        extra="""\
health:
  score_interval: 1h
""",
    )
    engine, clock = make_engine(db_url), Clock()
    summary = run_round(config, engine, clock, force=True)
    assert summary.results == {"up": 1, "down": 1}
    assert (summary.system_score, summary.system_level) == (75.0, "warning")
    (batch,) = published
    assert batch.source == "checks" and batch.now == clock.now
    names = {(s.name, s.labels.get("check") or s.labels.get("node")) for s in batch.samples}
    assert {
        ("check_up", "port"),
        ("check_latency_ms", "health"),
        ("health_score", "system"),
    } <= names
    latest = MetricStore(engine).latest('check_up{check="health"}')
    assert latest["value"].tolist() == [0.0]
    scores = {(s["scope"], s["node"]): (s["score"], s["level"]) for s in newest_scores(engine)}
    assert scores == {("system", "system"): (75.0, "warning"), ("target", "app"): (75.0, "warning")}

    clock.now += timedelta(seconds=30)
    run_round(config, engine, clock)  # health turns hard DOWN; port is unchanged
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(HealthScoreRecord.node, func.count()).group_by(HealthScoreRecord.node)
            ).all()
        )
    # unchanged levels wait for score_interval; changed ones are recorded at once
    trend = score_history(engine, scope="target", node="app", since=clock.now - timedelta(hours=1))
    assert trend["score"].tolist() == [75.0, 50.0]
    assert trend["level"].tolist() == ["warning", "degraded"]
    assert trend["at"].iloc[-1] == clock.now
    assert counts == {
        "port": 1,
        "app/network": 1,
        "health": 2,
        "app/health": 2,
        "app": 2,
        "system": 2,
    }
    engine.dispose()


def test_maintenance_pauses_checks_without_probing_them(
    tmp_path, http_server, tcp_listener, published
):
    http_server.answers["/health"] = Answer()
    config = config_for(
        http_server,
        tcp_listener,
        extra="""\
health:
  maintenance:
    - name: upgrade
      start: 2026-11-23T11:00:00Z
      end: 2026-11-23T13:00:00Z
      checks: [health]
""",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}")
    from models.migrate import upgrade

    upgrade(f"sqlite:///{tmp_path / 'v.db'}")
    run_round(config, engine, Clock(), force=True)
    assert statuses(published[0]) == {"port": ("up", True), "health": ("unknown", False)}
    assert "/health" not in http_server.hits
    engine.dispose()


def test_a_slow_target_does_not_hold_back_the_others(
    tmp_path, http_server, tcp_listener, published
):
    http_server.answers["/health"] = Answer(delay_s=1.5)
    config = config_for(http_server, tcp_listener)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    from models.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    published_at = []
    batch_hooks.SUBSCRIBERS.append(lambda batch: published_at.append(time.perf_counter() - started))
    run_round(config, engine, Clock(), force=True, tick_s=0.1)
    assert [list(statuses(b)) for b in published] == [["port"], ["health"]]
    assert published_at[0] < 0.8 < 1.4 < published_at[1]
    engine.dispose()


def test_checks_starved_of_slots_are_late_not_down(db_url, http_server, published):
    """One slot, a target that takes 1.5 s: the two checks queued behind it miss their
    1 s start deadline. They are stored and counted as late; nothing is DOWN."""
    http_server.answers["/slow"] = Answer(delay_s=1.5)
    http_server.answers["/health"] = Answer()
    common = "type: http, interval: 1s, timeout: 3s, max_attempts: 1"
    config = parse_config(f"""
health: {{max_concurrency: 1}}
checks:
  - {{name: slow, target: a, url: '{http_server.base_url}/slow', {common}}}
  - {{name: queued-1, target: b, url: '{http_server.base_url}/health', {common}}}
  - {{name: queued-2, target: b, url: '{http_server.base_url}/health', {common}}}
""")
    engine, clock = make_engine(db_url), Clock()
    summary = run_round(config, engine, clock, force=True)

    assert summary.results == {"up": 1, "late": 2}
    with engine.connect() as conn:
        rows = conn.execute(select(CheckResult.check, CheckResult.status, CheckResult.message))
        results = {check: (status, message) for check, status, message in rows}
    assert {check: status for check, (status, _) in results.items()} == {
        "slow": "up",
        "queued-1": "late",
        "queued-2": "late",
    }
    assert results["queued-1"][1].startswith("late: waited 1.")
    assert "/health" not in http_server.hits  # a late check does not probe
    assert [s.check for s in current_states(engine)] == ["slow"]  # late: stored state untouched
    assert shared_counters.read(engine)[shared_counters.CHECKS_LATE] == {"{}": 2.0}
    assert MetricStore(engine).latest("checks_late")["value"].tolist() == [2.0]
    assert [r.check for b in published for r in b.check_results] == ["slow"]  # alerting: no news
    engine.dispose()
