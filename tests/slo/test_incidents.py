"""Incidents from real checks: a parent (db) and two dependents (web, api) on loopback ports.

The checks run for real (TCP connects); the clock of each round is the test's, and the
alert engine is the production one with its incident hooks (tasks.alerting.subscribe).
"""

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from models.config import parse_config
from models.db import make_engine
from models.incidents import Incident
from models.recovery import RecoveryRun
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.incidents import recent_incidents
from tasks.alerting.plan import build_plan
from tasks.alerting.subscribe import reactions
from tasks.store import batch_hooks
from tests.alerting.helpers import Webhook
from tests.checks.loopback import Listener
from tests.checks.rounds import run_round
from tests.ports import free_port

TARGETS = ("db", "web", "api")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def site_yaml(ports: dict[str, int], hook: str, *, per_incident: bool) -> str:
    checks = "".join(
        f"  - {{name: {t}-tcp, type: tcp, target: {t}, host: 127.0.0.1, port: {ports[t]}, "
        "max_attempts: 1, timeout: 2s}\n"
        for t in TARGETS
    )
    return (
        "targets:\n  - {name: db}\n  - {name: web, depends_on: [db]}\n"
        "  - {name: api, depends_on: [db]}\n"
        f"checks:\n{checks}"
        "rules:\n  - {name: TargetDown, kind: check_state}\n"
        f"channels:\n  - {{name: hook, url: '{hook}'}}\n"
        "routes:\n  - {channels: [hook], group_by: [target], group_wait: 30s, "
        f"per_incident: {str(per_incident).lower()}}}\n"
        "alerting: {parent_down_inhibits: false}\n"
    )


class Site:
    """Three listeners, their checks and the alert engine, on one SQLite store."""

    def __init__(self, url: str, webhook: Webhook, *, per_incident: bool) -> None:
        self.listeners = {t: Listener(free_port()) for t in TARGETS}
        for listener in self.listeners.values():
            listener.open()
        ports = {t: listener.port for t, listener in self.listeners.items()}
        self.config = parse_config(site_yaml(ports, webhook.url, per_incident=per_incident))
        self.db = make_engine(url)
        self.store = MetricStore(self.db)
        plan = build_plan(self.config)
        hooks = reactions(self.config, self.db, plan)
        self.engine = AlertEngine(self.db, plan, store=self.store, emit=None, **hooks)
        self.clock = float(int(time.time()))

    def round(self, after_s: float) -> None:
        """Advance the clock and run every check once (results reach the engine at once)."""
        self.clock += after_s
        moment = datetime.fromtimestamp(self.clock, UTC)

        run_round(self.config, self.db, self.store, moment)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock, UTC)

    def sweep(self, after_s: float) -> None:
        self.clock += after_s
        self.engine.sweep(self.clock)

    def close(self) -> None:
        for listener in self.listeners.values():
            listener.close()
        self.engine.outbox.stop()
        self.db.dispose()


@pytest.fixture
def site(sqlite_url, webhook, monkeypatch):  # type: ignore[no-untyped-def]
    made = []

    def make(*, per_incident: bool) -> Site:
        built = Site(sqlite_url, webhook, per_incident=per_incident)
        monkeypatch.setattr(batch_hooks, "SUBSCRIBERS", [built.engine.on_batch])
        made.append(built)
        return built

    yield make
    for built in made:
        built.close()


@pytest.fixture
def webhook():  # type: ignore[no-untyped-def]
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


def fail_all(site: Site) -> None:
    site.round(0)
    for listener in site.listeners.values():
        listener.close()
    site.round(60)
    site.sweep(31)  # past group_wait


def test_a_parent_and_two_dependents_failing_together_are_one_incident_caused_by_the_parent(
    site, webhook
):
    running = site(per_incident=True)
    fail_all(running)
    [incident] = recent_incidents(running.db, EPOCH, running.now())
    assert incident["cause"] == "db"
    assert incident["targets"] == ["api", "db", "web"] and incident["alerts"] == 3
    assert incident["ended_at"] is None
    assert len(webhook.received) == 1, webhook.titles()  # one notification for the incident
    assert webhook.titles()[0].startswith("[FIRING:3]")
    for listener in running.listeners.values():
        listener.open()
    running.round(60)
    running.sweep(1)
    with running.db.connect() as conn:
        ended = conn.execute(select(Incident.ending, Incident.closed_at)).one()
    assert ended.ending == "resolved by itself" and ended.closed_at is not None


def test_without_the_route_option_each_target_is_told_apart_but_still_one_incident(site, webhook):
    running = site(per_incident=False)
    fail_all(running)
    assert len(webhook.received) == 3  # grouped by target: one message each
    incidents = recent_incidents(running.db, EPOCH, running.now())
    assert [i["cause"] for i in incidents] == ["db"]


def test_an_incident_a_recovery_fixed_ends_auto_fixed(site):
    running = site(per_incident=True)
    fail_all(running)
    with running.db.begin() as conn:
        conn.execute(
            insert(RecoveryRun.__table__),  # type: ignore[attr-defined]
            [{"procedure": "restart-db", "target": "db", "trigger": "alert:TargetDown",
              "state": "succeeded", "is_dry_run": False, "labels": "{}",
              "requested_at": running.now(), "finished_at": running.now(), "message": ""}],
        )  # fmt: skip
    for listener in running.listeners.values():
        listener.open()
    running.round(30)
    [incident] = recent_incidents(running.db, EPOCH, running.now())
    assert incident["ending"] == "auto-fixed" and incident["ended_at"] == running.clock
