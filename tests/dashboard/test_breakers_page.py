"""Breakers on the dashboard: the Alerts page's Breakers tab lists every breaker and its changes,
and an alert's timeline shows the opening and closing of the breakers that held it up."""

from models.config import parse_config
from models.db import make_engine
from models.store import MetricStore
from tasks.alerting import store as repo
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.core.resilience.breaker import BreakerParams
from tasks.store.breakers import SCRAPE, StoredBreakers
from tests.alerting.helpers import T0, write
from tests.dashboard.helpers import open_page
from tests.notify.receivers import Receiver

CONFIG = """
rules:
  - {{name: DiskFull, series: disk, value: 0.9, severity: critical}}
channels:
  - {{name: hook, url: 'json://{address}/', breaker: {{failures: 2, cooldown: 1m}}}}
alerting:
  default: {{group_wait: 0s}}
  retry_backoff: 5s
  stale_after: 30d
"""
LABELS = {"target": "db", "job": "node", "instance": "db:9100"}


def _incident_behind_breakers(sqlite_url: str) -> str:
    """DiskFull fires while its channel answers 500 (the breaker opens, later closes) and its
    scrape target's breaker opens; return the alert's fingerprint."""
    receiver = Receiver(mode="error").start()
    db = make_engine(sqlite_url)
    try:
        plan = build_plan(parse_config(CONFIG.format(address=receiver.address)))
        engine = AlertEngine(db, plan, store=MetricStore(db), emit=None)
        write(engine, T0, [("disk", LABELS, 0.97)])
        engine.sweep(T0 + 1)  # 500: one failure
        StoredBreakers(db, SCRAPE).record("node db:9100", False, T0 + 2, BreakerParams(1, 60))
        engine.sweep(T0 + 7)  # 500 again: the channel's breaker opens
        receiver.mode = "ok"
        engine.sweep(T0 + 30)  # within the cool-down: held, not called
        assert receiver.calls == 2
        engine.sweep(T0 + 70)  # the probe delivers; the breaker closes
        engine.outbox.stop()
        assert len(receiver.answered) == 1
        with db.connect() as conn:
            (row,) = repo.load_in_states(conn, [repo.AlertState.FIRING])
        return row.fingerprint
    finally:
        receiver.stop()
        db.dispose()


def test_the_breakers_tab_and_the_alert_timeline_show_breakers_opening_and_closing(
    sqlite_url, dashboard_env
):
    fp = _incident_behind_breakers(sqlite_url)
    dashboard_env(sqlite_url)
    at = open_page("views/alerts.py")
    at.query_params["fingerprint"] = fp
    at.run()
    assert not at.exception
    states, changes, timeline = (d.value for d in at.dataframe[-3:])
    assert list(zip(states["kind"], states["name"], states["state"], strict=True)) == [
        ("scrape", "node db:9100", "open"),
        ("channel", "hook", "closed"),
    ]
    assert list(zip(changes["name"], changes["state"], strict=True)) == [
        ("hook", "closed"),
        ("hook", "half_open"),
        ("hook", "open"),
        ("node db:9100", "open"),
    ]
    breakers = timeline[timeline["kind"] == "breaker"]["summary"].tolist()
    assert breakers == [
        "scrape node db:9100: opened after 1 failure in a row; not called until its cool-down ends",
        "channel hook: opened after 2 failures in a row; not called until its cool-down ends",
        "channel hook: half-open: one probe call after the cool-down",
        "channel hook: closed: called as usual again",
    ]
