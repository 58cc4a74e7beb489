"""One ordered history per alert: states, notifications with results, acks, recoveries."""

from datetime import UTC, datetime

from typer.testing import CliRunner

from models.config import parse_config
from models.db import make_engine
from models.recovery import AuditEvent
from tasks.alerting import store as repo
from tasks.alerting.timeline import read_timeline
from tasks.recovery.store import audit
from tests.alerting.helpers import T0, write
from vigil.cli import app

CONFIG = """
rules:
  - {{name: ApiDown, series: api_up, op: "<", value: 1, for: 1m, severity: critical,
      procedure: restart-api}}
channels:
  - {{name: oncall, url: '{url}/oncall'}}
  - {{name: lead, url: '{url}/lead'}}
routes:
  - match: '{{severity="critical"}}'
    channels: [oncall]
    group_wait: 0s
    group_interval: 1m
    escalation: pager
escalation_policies:
  - name: pager
    levels: [{{after: 15m, channels: [lead]}}]
procedures:
  - name: restart-api
    approval: required
    steps:
      - {{name: restart, type: command, argv: [/bin/true]}}
alerting:
  stale_after: 1d
"""


def _incident(make_alert_engine, url, webhook):  # type: ignore[no-untyped-def]
    """ApiDown: pending, firing (recovery requested), escalated, acknowledged, resolved."""
    from tests.alerting.helpers import recovery_hook

    text = CONFIG.format(url=webhook.url)
    launched = []  # the launcher is the boundary to the served recover deployment
    recovery_db = make_engine(url)
    hook = recovery_hook(parse_config(text), recovery_db, launched.append)
    engine = make_alert_engine(text, url=url, on_firing=[hook])
    write(engine, T0, [("api_up", {"target": "api"}, 0.0)])
    write(engine, T0 + 60, [("api_up", {"target": "api"}, 0.0)])
    (run,) = launched
    audit(engine.db, "restart-api", "api", AuditEvent.APPROVED, "go", run_id=run.id, actor="bo")
    engine.sweep(T0 + 61)
    engine.sweep(T0 + 16 * 60)
    with engine.db.begin() as conn:
        repo.acknowledge(conn, "1", "ana", "restarting", T0 + 17 * 60, expires_at=T0 + 7200)
    write(engine, T0 + 20 * 60, [("api_up", {"target": "api"}, 1.0)])
    engine.sweep(T0 + 22 * 60)
    recovery_db.dispose()
    return engine


def test_an_alert_timeline_orders_every_source_into_one_history(make_alert_engine, db_url, webhook):
    engine = _incident(make_alert_engine, db_url, webhook)
    with engine.db.connect() as conn:
        found = read_timeline(conn, "1")
    assert found is not None
    row, events = found
    assert [(e.at - T0, e.kind, e.actor) for e in events[:8]] == [
        (0, "detected", "vigil"),
        (60, "state", "vigil"),
        (60, "notification", "vigil"),
        (960, "notification", "vigil"),
        (1020, "acknowledged", "ana"),
        (1200, "state", "vigil"),
        (1200, "notification", "vigil"),
        (1200, "notification", "vigil"),
    ]
    summaries = [e.summary for e in events]
    assert summaries[:8] == [
        "inactive → pending",
        "pending → firing (value 0)",
        "firing to oncall: sent after 1 attempt",
        "escalation to lead: sent after 1 attempt",
        "restarting (until 2026-03-01 14:00:00 UTC)",
        "firing → resolved (value 0)",
        "resolved to oncall: sent after 1 attempt",
        "resolved to lead: sent after 1 attempt",  # the escalated level hears it too
    ]
    recovery = [(e.kind, e.summary, e.actor) for e in events[8:]]
    assert recovery == [  # the run's rows carry the wall clock of the recovery gate
        ("recovery", "run 1 restart-api on api: admitted", "vigil"),
        ("recovery", "run 1 admitted: alert:ApiDown", "vigil"),
        ("approval", "run 1 approved: go", "bo"),
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert row.ack_by == "ana"


def test_vigil_alerts_show_prints_the_timeline(make_alert_engine, sqlite_url, webhook):
    _incident(make_alert_engine, sqlite_url, webhook)
    shown = CliRunner().invoke(app, ["alerts", "show", "1", "--db", sqlite_url])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("alert 1 ") and "ApiDown resolved {alertname=ApiDown" in lines[0]
    when = datetime.fromtimestamp(T0, UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert lines[1].startswith("acknowledged by ana until 2026-03-01 14:00:00: restarting")
    assert lines[2] == f"{when}  detected        inactive → pending [vigil]"
    assert any("acknowledged    restarting (until" in line and "[ana]" in line for line in lines)
    assert any("approval        run 1 approved: go [bo]" in line for line in lines)
    missing = CliRunner().invoke(app, ["alerts", "show", "nope", "--db", sqlite_url])
    assert missing.exit_code == 1
