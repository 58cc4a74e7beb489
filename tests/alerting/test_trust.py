"""Trustworthy anomaly alerts: minimum history, corroboration, dismissal fed to retraining."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from typer.testing import CliRunner

from models.analytics import ModelVersion
from models.config.analytics import AnalyticsConfig
from models.dismissal import AlertDismissal
from models.store import NewSample
from tasks.alerting import store as repo
from tasks.analytics.jobs import retrain_series
from tasks.core.alerting.lifecycle import AlertState
from tests.alerting.helpers import ADMIN, T0, transitions, write
from vigil.cli import app

DAY = 86_400.0
HOST = {"host": "a"}
SCORE = {"metric": "cpu", "detector": "ensemble", **HOST}
ANOMALY = """
rules:
  - name: CpuOdd
    kind: anomaly
    series: cpu
    min_score: 0.9
{extra}
  - {{name: DiskSoon, kind: forecast, series: disk, threshold: 0.9, within: 30m}}
"""


def firing_rules(engine) -> list[str]:
    with engine.db.connect() as conn:
        return [r.rule for r in repo.load_in_states(conn, [AlertState.FIRING])]


def test_an_anomaly_rule_waits_for_the_series_minimum_history(make_alert_engine):
    engine = make_alert_engine(ANOMALY.format(extra="    min_history: 1d"))
    write(engine, T0, [("cpu", HOST, 50.0)])
    write(engine, T0 + 3600, [("vigil_anomaly_score", SCORE, 0.99)])
    assert firing_rules(engine) == []
    write(engine, T0 + DAY + 60, [("vigil_anomaly_score", SCORE, 0.99)])
    assert firing_rules(engine) == ["CpuOdd"]


def test_an_anomaly_fires_only_when_the_raw_series_agrees(make_alert_engine):
    extra = "    corroborate: {op: '>', value: 80}"
    engine = make_alert_engine(ANOMALY.format(extra=extra))
    write(engine, T0, [("cpu", HOST, 50.0), ("vigil_anomaly_score", SCORE, 0.99)])
    assert firing_rules(engine) == []
    write(engine, T0 + 60, [("cpu", HOST, 91.0), ("vigil_anomaly_score", SCORE, 0.99)])
    assert firing_rules(engine) == ["CpuOdd"]


def test_an_anomaly_fires_only_when_a_forecast_rule_fires_on_the_same_series(make_alert_engine):
    engine = make_alert_engine(
        ANOMALY.replace("series: cpu", "series: disk").format(
            extra="    corroborate: {rule: DiskSoon}"
        )
    )
    score = {**SCORE, "metric": "disk"}
    crossing = {"metric": "disk", "threshold": "0.9", **HOST}
    write(engine, T0, [("vigil_anomaly_score", score, 0.95)])
    assert firing_rules(engine) == []
    write(engine, T0 + 60, [("vigil_forecast_crossing_seconds", crossing, 600.0)])
    write(engine, T0 + 120, [("vigil_anomaly_score", score, 0.95)])
    assert sorted(firing_rules(engine)) == ["CpuOdd", "DiskSoon"]


def test_a_dismissed_alert_resolves_stays_quiet_for_a_while_then_may_fire_again(
    make_alert_engine, sqlite_url, time_machine, owned_state_dir
):
    engine = make_alert_engine(ANOMALY.format(extra=""))
    write(engine, T0, [("vigil_anomaly_score", SCORE, 0.97)])
    with engine.db.connect() as conn:
        (alert,) = repo.load_in_states(conn, [AlertState.FIRING])
    time_machine.move_to(datetime.fromtimestamp(T0 + 10, UTC), tick=False)
    args = ["rules", "dismiss", str(alert.id), "--for", "1d", "--as-admin", "-m", "backup job"]
    done = CliRunner().invoke(app, [*args, "--db", sqlite_url])
    assert done.exit_code == 0, done.output
    assert "dismissed CpuOdd {alertname=CpuOdd, detector=ensemble, host=a" in done.output
    assert f"until 2026-03-02 12:00:10 UTC (by {ADMIN})" in done.output
    engine.sweep(T0 + 20, deliver=False)
    write(engine, T0 + 3600, [("vigil_anomaly_score", SCORE, 0.99)])
    assert firing_rules(engine) == []
    write(engine, T0 + DAY + 60, [("vigil_anomaly_score", SCORE, 0.99)])
    assert firing_rules(engine) == ["CpuOdd"]
    assert transitions(engine) == [
        ("inactive", "firing"),
        ("firing", "resolved"),
        ("resolved", "firing"),
    ]


def test_an_unknown_alert_cannot_be_dismissed_and_a_bad_duration_is_named(
    sqlite_url, owned_state_dir
):
    missing = CliRunner().invoke(app, ["rules", "dismiss", "42", "--as-admin", "--db", sqlite_url])
    assert missing.exit_code == 1 and "no alert '42'" in missing.output
    bad = CliRunner().invoke(app, ["rules", "dismiss", "42", "--for", "soon", "--db", sqlite_url])
    assert bad.exit_code == 2 and "'soon' is not a duration" in bad.output


def test_retraining_records_the_false_positives_dismissed_on_its_series(
    make_alert_engine, sqlite_url, time_machine, owned_state_dir
):
    engine = make_alert_engine(ANOMALY.format(extra=""))
    start = T0 - 2 * DAY
    values = 50 + 10 * np.sin(np.arange(200) / 10)
    engine.store.write(
        [NewSample("cpu", HOST, start + 600 * i, float(v)) for i, v in enumerate(values)]
    )
    write(engine, T0, [("vigil_anomaly_score", SCORE, 0.97)])
    time_machine.move_to(datetime.fromtimestamp(T0 + 10, UTC), tick=False)
    dismissed = CliRunner().invoke(app, ["rules", "dismiss", "1", "--as-admin", "--db", sqlite_url])
    assert dismissed.exit_code == 0, dismissed.output
    (info,) = engine.store.find_series("cpu")
    config = AnalyticsConfig(series=["cpu"], horizon=timedelta(hours=2), models=["linear_trend"])
    line = retrain_series.fn(sqlite_url, info, config, datetime.fromtimestamp(T0 + 60, UTC))
    assert "first_fit, promoted" in line
    with engine.db.connect() as conn:
        params = json.loads(conn.execute(select(ModelVersion.__table__.c.params)).scalar_one())
        dismissed = conn.execute(select(AlertDismissal.__table__)).one()._mapping
    assert params["false_positives"] == [
        {"rule": "CpuOdd", "fired_at": T0, "value": 0.97, "by": ADMIN}
    ]
    assert dismissed["comment"] == "" and dismissed["alert_id"] == 1


def test_min_history_and_dismissals_work_on_sqlite_and_postgresql(make_alert_engine, db_url):
    from tasks.alerting import dismissal_store as dismissals

    engine = make_alert_engine(ANOMALY.format(extra="    min_history: 1d"), url=db_url)
    write(engine, T0, [("cpu", HOST, 50.0)])
    write(engine, T0 + 3600, [("vigil_anomaly_score", SCORE, 0.99)])
    assert firing_rules(engine) == []
    write(engine, T0 + DAY + 60, [("vigil_anomaly_score", SCORE, 0.99)])
    assert firing_rules(engine) == ["CpuOdd"]
    with engine.db.begin() as conn:
        done = dismissals.dismiss(
            conn, "1", by="bo", comment="", until=T0 + 2 * DAY, now=T0 + DAY + 70
        )
        assert done is not None
        assert [d.id for d in dismissals.about_series(conn, "cpu", HOST)] == [done.id]
    engine.sweep(T0 + DAY + 80, deliver=False)
    assert firing_rules(engine) == []
