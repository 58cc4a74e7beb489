"""Alerts, Recoveries, Models and the Metrics overlays over seeded capability tables."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from prefect import flow
from prefect.settings import PREFECT_API_URL
from sqlalchemy import insert, select

from app import actions
from app.auth import User
from models.alerting import Alert, AlertTransition, Notification, Silence
from models.analytics import AnomalyScore, ForecastPoint, ModelVersion
from models.config.dashboard import Role
from models.config.recovery import TimeoutDecision
from models.recovery import RecoveryAudit, RecoveryRun
from models.store import MetricStore, NewSample
from tasks.recovery.approval import Gate, ask_approval
from tests.dashboard.helpers import open_page


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# -- alerts ------------------------------------------------------------------------


def seed_alerts(engine) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()

    def alert(fp: str, rule: str, severity: str, state: str, target: str) -> dict:
        labels = {"alertname": rule, "severity": severity, "target": target}
        return dict(
            fingerprint=fp, rule=rule, labels=json.dumps(labels, sort_keys=True),
            annotations="{}", state=state, value=0.97, active_since=now - timedelta(minutes=9),
            fired_at=now - timedelta(minutes=8), is_flapping=False, flap_changes="[]",
            escalation_level=0, version=0, updated_at=now,
        )  # fmt: skip

    with engine.begin() as conn:
        conn.execute(
            insert(Alert.__table__),
            [
                alert("f1", "HighCpu", "critical", "firing", "web-1"),
                alert("f2", "DiskSoon", "warning", "firing", "db-1"),
                alert("f3", "Old", "warning", "resolved", "db-1"),
            ],
        )
        conn.execute(
            insert(AlertTransition.__table__),
            [dict(alert_id=1, fingerprint="f1", rule="HighCpu", from_state="pending",
                  to_state="firing", at=now - timedelta(minutes=8), value=0.97, reason="")],
        )  # fmt: skip
        conn.execute(
            insert(Notification.__table__),
            [dict(channel="ops", kind="firing", title="HighCpu on web-1", body="b",
                  fingerprints='["f1"]', status="failed", attempts=3, next_attempt_at=now,
                  last_error="connection refused", created_at=now)],
        )  # fmt: skip


def alert_row(engine, alert_id: int):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(Alert.__table__).where(Alert.__table__.c.id == alert_id)).one()


def test_alerts_page_filters_by_state_severity_and_labels(engine, db_url, dashboard_env):
    seed_alerts(engine)
    dashboard_env(db_url)
    at = open_page("views/alerts.py")
    assert not at.exception
    assert [m.value for m in at.main.metric[:3]] == ["1", "1", "0"]
    assert list(at.dataframe[0].value["rule"]) == ["HighCpu", "DiskSoon"]
    at.multiselect(key="severities").select("warning").run()
    assert list(at.dataframe[0].value["rule"]) == ["DiskSoon"]
    at.multiselect(key="alert_states").select("resolved").run()
    at.text_input(key="alert_labels").input('{target="db-1"}').run()
    assert sorted(at.dataframe[0].value["rule"]) == ["DiskSoon", "Old"]
    history, deliveries = at.dataframe[1].value, at.dataframe[2].value
    assert list(history["to_state"]) == ["firing"]
    assert deliveries.iloc[0]["last_error"] == "connection refused"
    at.text_input(key="alert_labels").input('{target="db-1"').run()
    assert not at.exception
    assert "Label filter" in at.error[0].value


def test_an_operator_acknowledges_with_a_comment(lite, sqlite_url, dashboard_env):
    seed_alerts(lite)
    dashboard_env(sqlite_url)
    at = open_page("views/alerts.py", user="operator-user")
    at.selectbox(key="ack_alert").select(2)
    at.button(key="FormSubmitter:ack-Acknowledge").click().run()
    assert "write a comment" in at.error[0].value
    assert alert_row(lite, 2).ack_by is None
    at.text_input(key="ack_comment").input("disk cleanup running")
    at.button(key="FormSubmitter:ack-Acknowledge").click().run()
    assert not at.exception
    row = alert_row(lite, 2)
    assert (row.ack_by, row.ack_comment) == ("operator-user", "disk cleanup running")
    assert "Acknowledged alert #2." in [s.value for s in at.success]


def test_a_viewer_cannot_acknowledge_or_silence(lite, sqlite_url, dashboard_env):
    now = utcnow()
    seed_alerts(lite)
    dashboard_env(sqlite_url)
    at = open_page("views/alerts.py", user="viewer-user")
    assert not at.get("form")
    captions = " ".join(c.value for c in at.main.caption)
    assert "Only operators and above can acknowledge alerts; you are a viewer." in captions
    assert "Only operators and above can create and expire silences" in captions
    viewer = User("viewer-user", Role.VIEWER)
    with pytest.raises(actions.NotAllowed):
        actions.acknowledge_alert(lite, viewer, 1, "sneaky", now=now)
    with pytest.raises(actions.NotAllowed):
        actions.create_silence(lite, viewer, '{target="x"}', timedelta(hours=1), "", now=now)
    assert alert_row(lite, 1).ack_by is None


def test_an_operator_creates_and_expires_a_silence(lite, sqlite_url, dashboard_env):
    seed_alerts(lite)
    dashboard_env(sqlite_url)
    at = open_page("views/alerts.py", user="operator-user")
    at.text_input(key="silence_matchers").input('{target="db-1"')
    at.button(key="FormSubmitter:silence-Silence").click().run()
    assert "expected" in at.error[0].value.lower() or "matcher" in at.error[0].value.lower()
    at.text_input(key="silence_matchers").input('{target="db-1"}')
    at.text_input(key="silence_for").input("2h")
    at.text_input(key="silence_comment").input("maintenance")
    at.button(key="FormSubmitter:silence-Silence").click().run()
    assert not at.exception
    with lite.connect() as conn:
        (silence,) = conn.execute(select(Silence.__table__)).all()
    assert (silence.matchers, silence.created_by) == ('{target="db-1"}', "operator-user")
    at.selectbox(key="expire_id").select(silence.id)
    at.button(key="FormSubmitter:expire-Expire now").click().run()
    assert f"Silence #{silence.id} ended." in [s.value for s in at.success]
    with lite.connect() as conn:
        ends, by = conn.execute(select(Silence.__table__.c.ends_at, Silence.expired_by)).one()
    assert ends.replace(tzinfo=UTC) <= datetime.now(UTC)
    assert by == "operator-user"


# -- recoveries --------------------------------------------------------------------


STEPS = [
    (0, "admitted", ""),
    (4, "step_succeeded", "restart ok"),
    (9, "step_failed", "probe failed"),
    (11, "rolled_back", "restart"),
]


def seed_run(engine, state: str, flow_run_id: str | None = None) -> int:  # type: ignore[no-untyped-def]
    now = utcnow()
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(RecoveryRun.__table__).returning(RecoveryRun.__table__.c.id),
            dict(procedure="restart-web", target="web-1", trigger="alert:HighCpu",
                 state=state.upper(), is_dry_run=False, labels="{}", flow_run_id=flow_run_id,
                 requested_at=now - timedelta(minutes=5), message=""),
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(RecoveryAudit.__table__),
            [dict(run_id=run_id, procedure="restart-web", target="web-1",
                  at=now - timedelta(minutes=5) + timedelta(seconds=s), event=event.upper(),
                  actor="vigil", detail=detail)
             for s, event, detail in STEPS],
        )  # fmt: skip
    return run_id


def test_recoveries_page_lists_runs_with_steps_and_durations(lite, sqlite_url, dashboard_env):
    run_id = seed_run(lite, "failed")
    dashboard_env(sqlite_url)
    at = open_page("views/recoveries.py")
    assert not at.exception
    runs = at.dataframe[0].value
    assert list(runs["state"]) == ["failed"]
    steps = at.dataframe[1].value
    assert list(steps["event"]) == ["admitted", "step_succeeded", "step_failed", "rolled_back"]
    assert list(steps["after_s"].fillna(0)) == [0, 4, 5, 2]
    assert run_id == runs.iloc[0]["id"]


def test_a_viewer_sees_the_approval_link_but_no_controls(lite, sqlite_url, dashboard_env):
    seed_run(lite, "awaiting_approval", flow_run_id="6f1c7a4e-0000-4000-8000-000000000001")
    dashboard_env(sqlite_url, "  prefect_ui_url: http://ui.example:4200\n")
    at = open_page("views/recoveries.py", user="viewer-user")
    assert at.get("link_button")[0].proto.url == (
        "http://ui.example:4200/runs/flow-run/6f1c7a4e-0000-4000-8000-000000000001"
    )
    assert not at.get("form")
    assert "Only operators and above can approve or reject" in at.main.caption[0].value


def test_an_operator_approves_a_paused_recovery_from_the_dashboard(
    prefect_harness, lite, sqlite_url, dashboard_env
):
    decisions = []

    @flow(name="dashboard-approval-probe")
    def gate() -> None:
        from prefect.context import get_run_context

        run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
        who = Gate(lite, run_id, lambda: frozenset({"operator-user"}), 1, lambda *_: None)
        decisions.append(
            ask_approval(
                "restart web-1?", timeout_s=60, on_timeout=TimeoutDecision.REJECT, key="k", gate=who
            )
        )

    worker = threading.Thread(target=gate)
    worker.start()
    flow_run_id = wait_for_paused_run("dashboard-approval-probe")
    seed_run(lite, "awaiting_approval", flow_run_id=flow_run_id)
    dashboard_env(sqlite_url, f"  prefect_api_url: {PREFECT_API_URL.value()}\n")
    at = open_page("views/recoveries.py", user="operator-user")
    (reason_key,) = [t.key for t in at.text_input if t.key.startswith("reason-")]
    at.button(key=next(b.key for b in at.button if b.key.endswith("-Approve"))).click().run()
    assert "give a reason" in at.error[0].value
    at.text_input(key=reason_key).input("load is from a bad deploy")
    at.button(key=next(b.key for b in at.button if b.key.endswith("-Approve"))).click().run()
    assert not at.exception
    assert any("approved: load is from a bad deploy" in s.value for s in at.success)
    worker.join(timeout=30)
    (decision,) = decisions
    assert decision.is_approved
    assert (decision.reason, decision.approver) == ("load is from a bad deploy", "operator-user")
    assert decision.path == "dashboard"  # proven by a code the dashboard issued and used


def wait_for_paused_run(flow_name: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )  # fmt: skip
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                ),
                sort=FlowRunSort.START_TIME_DESC,
                limit=1,
            )
            if runs:
                return str(runs[0].id)
            time.sleep(0.3)
    raise AssertionError(f"no paused run of {flow_name}")


# -- models and the metrics chart --------------------------------------------------


def test_models_page_lists_versions_with_backtest_scores(lite, sqlite_url, dashboard_env):
    now = utcnow()
    MetricStore(lite).write([NewSample("cpu", {"host": "a"}, now, 1.0)])
    with lite.begin() as conn:
        conn.execute(
            insert(ModelVersion.__table__),
            [dict(series_id=1, version=v, model=m, status=s.upper(), period=1, seasonality="none",
                  params="{}", train_start=now - timedelta(days=7), train_end=now,
                  backtest_mase=mase, baseline_mase=1.0, backtest="{}", reason="schedule",
                  error="", created_at=now + timedelta(seconds=v))
             for v, m, s, mase in ((1, "ets", "retired", 1.2), (2, "arima", "current", 0.7))],
        )  # fmt: skip
    dashboard_env(sqlite_url)
    at = open_page("views/models.py")
    assert not at.exception
    versions = at.dataframe[0].value
    assert list(versions["model"]) == ["arima"]
    assert versions.iloc[0]["series"] == 'cpu{host="a"}'
    assert at.metric[1].value == "1 of 1"
    at.multiselect(key="model_status").select("retired").run()
    assert list(at.dataframe[0].value["model"]) == ["arima", "ets"]


def test_the_metrics_chart_draws_forecast_anomalies_and_thresholds(lite, sqlite_url, dashboard_env):
    now = utcnow()
    ticks = [now - timedelta(minutes=m) for m in range(60)]
    MetricStore(lite).write([NewSample("cpu", {"host": "a"}, ts, 0.5) for ts in ticks])
    with lite.begin() as conn:
        conn.execute(
            insert(ForecastPoint.__table__),
            [dict(series_id=1, model_version_id=1, issued_at=now, ts=now + timedelta(minutes=m),
                  yhat=0.5, lower=0.4, upper=0.6) for m in range(1, 31)],
        )  # fmt: skip
        conn.execute(
            insert(AnomalyScore.__table__),
            [dict(series_id=1, detector="robust_z", ts_ms=round(ticks[5].timestamp() * 1000),
                  score=0.97),
             dict(series_id=1, detector="robust_z", ts_ms=round(ticks[9].timestamp() * 1000),
                  score=0.2)],
        )  # fmt: skip
    rules = "rules:\n  - {name: HighCpu, series: 'cpu', value: 0.9, severity: critical}\n"
    dashboard_env(sqlite_url, top=rules)
    at = open_page("views/metrics.py")
    assert not at.exception
    chart = at.get("vega_lite_chart")[0].proto
    marks = [layer["mark"]["type"] for layer in json.loads(chart.spec)["layer"]]
    assert marks == ["area", "line", "area", "line", "point", "rule"]
    rows = sorted(pa.ipc.open_stream(d.data.data).read_all().num_rows for d in chart.datasets)
    # one threshold, one anomaly over 0.9, an hour in 3-minute buckets, 30 forecast steps
    assert rows[:2] == [1, 1] and rows[2] in (20, 21) and rows[3] == 30


def test_an_operator_gets_a_one_time_code_for_the_prefect_ui_stored_only_hashed(
    lite, sqlite_url, dashboard_env
):
    from models.access import ApprovalCode
    from tasks.core.recovery.approvers import CODE_ALPHABET, code_hash

    flow_run_id = "6f1c6a52-0000-4000-8000-000000000001"
    seed_run(lite, "awaiting_approval", flow_run_id=flow_run_id)
    dashboard_env(sqlite_url)
    at = open_page("views/recoveries.py", user="operator-user")
    at.button(key=next(b.key for b in at.button if b.key.startswith("code-prefect-ui-"))).click()
    at.run()
    assert not at.exception
    (shown,) = [c.value for c in at.code]
    assert len(shown) == 10 and set(shown) <= set(CODE_ALPHABET)
    with lite.connect() as conn:
        (row,) = conn.execute(ApprovalCode.__table__.select()).all()  # type: ignore[attr-defined]
    assert (row.user, row.flow_run_id, row.path) == ("operator-user", flow_run_id, "prefect-ui")
    assert row.code_hash == code_hash(shown) and shown not in repr(row)
    viewer = open_page("views/recoveries.py", user="viewer-user")
    assert not [b for b in viewer.button if (b.key or "").startswith("code-")]
