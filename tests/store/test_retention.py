"""Retention of everything Vigil stores, on SQLite and PostgreSQL: rows counted before and after."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from models.access import ApprovalCode, ConfigLoad, LoginAudit
from models.alerting import Alert, AlertEvent, AlertTransition, Notification
from models.analytics import AnomalyScore, ForecastPoint, ModelStatus, ModelVersion
from models.breakers import BreakerEvent
from models.checks import CheckResult, HealthScoreRecord
from models.config.collectors import Retention
from models.db import make_engine
from models.incidents import Incident, IncidentAlert
from models.metrics import Series
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun
from models.store import NewSample
from models.vocabulary.run_states import RunState
from tasks.core.alerting.lifecycle import fingerprint
from tasks.store.upkeep import apply_retention, reclaim_space

NOW = datetime.now(UTC).replace(microsecond=0)
OPEN_LABELS = {"alertname": "disk_full", "target": "web"}
OLD_LABELS = {"alertname": "disk_full", "target": "db"}
RECENT_LABELS = {"alertname": "disk_full", "target": "cache"}
CAUSE = {"cause_target": "db", "cause_rule": "DbDown", "found_by": "DbDown"}


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def table(model):  # type: ignore[no-untyped-def]
    return model.__table__


def count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table(model)).where(*where)).scalar()


def add(engine, model, rows: list[dict]) -> list[int]:  # type: ignore[no-untyped-def]
    """Insert ``rows`` with the model's defaults; return their ids."""
    with engine.begin() as conn:
        return [
            conn.execute(
                insert(table(model)).values(**with_defaults(model, row))
            ).inserted_primary_key[0]
            for row in rows
        ]


def with_defaults(model, row: dict) -> dict:  # type: ignore[no-untyped-def]
    return {k: v for k, v in model(**row).model_dump().items() if k != "id" or v is not None}


def hourly_check_results(engine) -> None:  # type: ignore[no-untyped-def]
    """100 days of hourly results, oldest first: down at 50 days (2 h) and at 20 days (1 h)."""
    rows = []
    for hours in range(2399, -1, -1):
        status = "down" if hours in (1200, 1199, 480) else "up"
        rows.append(
            dict(
                check="web",
                target="web",
                component="http",
                at=NOW - timedelta(hours=hours),
                status=status,
                is_hard=True,
                attempt=0,
                tries=1,
                message="",
            )
        )
    with engine.begin() as conn:
        conn.execute(insert(table(CheckResult)), rows)
        conn.execute(
            insert(table(HealthScoreRecord)),
            [
                dict(
                    at=r["at"],
                    scope="check",
                    node="web",
                    score=100.0 if r["status"] == "up" else 0.0,
                    level="ok" if r["status"] == "up" else "critical",
                )
                for r in rows
            ],
        )


def alert(engine, labels, state, updated_at) -> int:  # type: ignore[no-untyped-def]
    fp = fingerprint(labels)
    [alert_id] = add(
        engine,
        Alert,
        [
            dict(
                fingerprint=fp,
                rule="disk_full",
                labels=json.dumps(labels),
                state=state,
                updated_at=updated_at,
            )
        ],
    )
    at = updated_at - timedelta(days=1)
    add(
        engine,
        AlertTransition,
        [
            dict(
                alert_id=alert_id,
                fingerprint=fp,
                rule="disk_full",
                from_state="pending",
                to_state="firing",
                at=at,
            )
        ],
    )
    add(engine, AlertEvent, [dict(alert_id=alert_id, fingerprint=fp, kind="acknowledged", at=at)])
    add(engine, Notification, [notice("sent", at, [fp])])
    return alert_id


def notice(status: str, at: datetime, fingerprints: list[str]) -> dict:
    """A notification row to one channel, created at ``at``."""
    return dict(
        channel="ops",
        kind="firing",
        title="t",
        body="b",
        fingerprints=json.dumps(fingerprints),
        status=status,
        next_attempt_at=at,
        created_at=at,
    )


def recovery(engine, trigger, labels, finished_at) -> int:  # type: ignore[no-untyped-def]
    [run_id] = add(
        engine,
        RecoveryRun,
        [
            dict(
                procedure="restart",
                target=labels["target"],
                trigger=trigger,
                state=RunState.SUCCEEDED,
                labels=json.dumps(labels),
                requested_at=finished_at,
                finished_at=finished_at,
            )
        ],
    )
    add(
        engine,
        RecoveryAudit,
        [
            dict(
                run_id=run_id, procedure="restart", target=labels["target"], at=finished_at, event=e
            )
            for e in (AuditEvent.ADMITTED, AuditEvent.SUCCEEDED)
        ],
    )
    return run_id


@pytest.fixture
def a_long_life(store):  # type: ignore[no-untyped-def]
    """A store holding 100-200 days of every kind of row Vigil writes."""
    engine = store.engine
    hourly_check_results(engine)
    ids = {
        "open": alert(engine, OPEN_LABELS, "firing", days_ago(200)),
        "old": alert(engine, OLD_LABELS, "resolved", days_ago(100)),
        "recent": alert(engine, RECENT_LABELS, "resolved", days_ago(10)),
    }
    statuses = ("sent", "failed", "pending")
    add(engine, Notification, [notice(status, days_ago(100), []) for status in statuses])
    ids["open_run"] = recovery(engine, "alert:disk_full", OPEN_LABELS, days_ago(200))
    ids["old_run"] = recovery(engine, "manual", OLD_LABELS, days_ago(100))
    ids["recent_run"] = recovery(engine, "manual", RECENT_LABELS, days_ago(10))
    add(
        engine,
        RecoveryAudit,
        [dict(procedure="restart", target="db", at=days_ago(100), event=AuditEvent.SKIPPED)],
    )
    store.write(
        NewSample("cpu", {"host": "web"}, (NOW - timedelta(minutes=m)).timestamp(), 1.0)
        for m in range(10)
    )
    store.write([NewSample("gone", {"host": "old"}, days_ago(30).timestamp(), 1.0)])
    with engine.begin() as conn:  # as if it had been written then
        series = table(Series)
        conn.execute(series.update().where(series.c.name == "gone").values(created_at=days_ago(30)))
    [cpu] = store.find_series("cpu")
    for version in range(1, 9):
        add(
            engine,
            ModelVersion,
            [
                dict(
                    series_id=cpu.id,
                    version=version,
                    model="naive",
                    status=ModelStatus.CURRENT if version == 8 else ModelStatus.RETIRED,
                    period=1,
                    seasonality="none",
                    train_start=days_ago(40),
                    train_end=days_ago(1),
                    backtest_mase=1.0,
                    baseline_mase=1.0,
                )
            ],
        )
    for series_id, issued in ((cpu.id, 30), (cpu.id, 20), (cpu.id, 1), (cpu.id + 1000, 30)):
        add(
            engine,
            ForecastPoint,
            [
                dict(
                    series_id=series_id,
                    model_version_id=1,
                    issued_at=days_ago(issued),
                    ts=days_ago(issued - 1),
                    yhat=1.0,
                    lower=0.0,
                    upper=2.0,
                )
                for _ in range(3)
            ],
        )
    with engine.begin() as conn:
        conn.execute(
            insert(table(AnomalyScore)),
            [
                dict(
                    series_id=cpu.id,
                    detector="zscore",
                    ts_ms=round(days_ago(d).timestamp() * 1000),
                    score=0.5,
                )
                for d in (40, 35, 10)
            ],
        )
    return store, ids


@pytest.mark.slow
def test_retention_deletes_what_aged_out_and_keeps_open_alerts_with_their_timelines(a_long_life):
    store, ids = a_long_life
    engine = store.engine
    assert count(engine, CheckResult) == 2400
    deleted = apply_retention.fn(engine, NOW, Retention(batch_rows=7))

    # check results: the last 14 days whole, then only the 4 status changes up to 90 days
    assert count(engine, CheckResult) == 337 + 4
    assert count(engine, CheckResult, table(CheckResult).c.at < days_ago(14)) == 4
    assert deleted["check_result"] == 2400 - 341
    assert count(engine, HealthScoreRecord) == 337 + 4

    alert_ids = {i for [i] in _rows(engine, select(table(Alert).c.id))}
    assert alert_ids == {ids["open"], ids["recent"]}
    for child in (AlertTransition, AlertEvent):
        assert {i for [i] in _rows(engine, select(table(child).c.alert_id))} == alert_ids
    assert deleted["alert"] == deleted["alert_transition"] == deleted["alert_event"] == 1
    kept_notices = [
        json.loads(f) for [f] in _rows(engine, select(table(Notification).c.fingerprints))
    ]
    assert sorted(kept_notices) == sorted(
        [[fingerprint(OPEN_LABELS)], [fingerprint(RECENT_LABELS)], []]
    )
    assert count(engine, Notification, table(Notification).c.status == "pending") == 1

    runs = {i for [i] in _rows(engine, select(table(RecoveryRun).c.id))}
    assert runs == {ids["open_run"], ids["recent_run"]}  # the open alert's run stays with it
    audits = {i for [i] in _rows(engine, select(table(RecoveryAudit).c.run_id))}
    assert audits == runs and count(engine, RecoveryAudit) == 4

    assert count(engine, ForecastPoint) == 3 + 3  # cpu's newest issue, the other's only one
    assert count(engine, AnomalyScore) == 1
    versions = [v for [v] in _rows(engine, select(table(ModelVersion).c.version))]
    assert sorted(versions) == [3, 4, 5, 6, 7, 8]
    assert [s.name for s in store.find_series("{host=~'.+'}")] == ["cpu"]
    assert deleted["series"] == 1 and deleted["sample"] == 1

    again = apply_retention.fn(engine, NOW, Retention(batch_rows=7))
    assert sum(again.values()) == 0  # nothing left to delete: the kept rows are not re-counted
    done = reclaim_space.fn(engine)
    if engine.dialect.name == "sqlite":
        assert done == "sqlite: incremental vacuum"
        with engine.connect() as conn:  # the freed pages went back to the file system
            assert conn.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
    else:
        assert done.startswith("postgresql: vacuumed and analysed")


def _rows(engine, query):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(query).all()


@pytest.mark.postgres
def test_postgres_tables_left_with_dead_rows_are_vacuumed_so_their_space_is_reused(postgres_url):
    """The shared server runs with autovacuum off: without maintenance's VACUUM, it grows."""
    from sqlalchemy import text

    from models.db import make_engine
    from models.migrate import upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    row = dict(check="c", target="t", component="tcp", status="up", is_hard=True, attempt=0)
    row |= dict(tries=1, message="")
    with engine.begin() as conn:
        rows = [row | {"at": days_ago(30)}] * 3000 + [row | {"at": NOW}] * 1000
        conn.execute(insert(table(CheckResult)), rows)
    deleted = apply_retention.fn(engine, NOW, Retention())["check_result"]
    assert deleted >= 2999 and count(engine, CheckResult) == 4000 - deleted
    dead = text("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'check_result'")
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
    with engine.connect() as conn:
        assert conn.execute(dead).scalar() == deleted  # deleted, still on disk

    assert reclaim_space.fn(engine) == "postgresql: vacuumed and analysed check_result"
    with engine.connect() as conn:
        assert conn.execute(dead).scalar() == 0
    assert reclaim_space.fn(engine) == "postgresql: vacuumed and analysed nothing"
    engine.dispose()


def test_incidents_breaker_changes_and_access_audit_age_out_and_each_process_keeps_its_last_load(
    db_url,
):
    engine = make_engine(db_url)
    closed = add(
        engine,
        Incident,
        [
            dict(opened_at=days_ago(d + 1), closed_at=days_ago(d) if d else None, **CAUSE)
            for d in (100, 10, 0)  # closed long ago, closed lately, still open
        ],
    )
    member = dict(rule="r", target="t", fired_at=days_ago(101), labels="{}")
    add(engine, IncidentAlert, [dict(incident_id=i, fingerprint=f"f{i}", **member) for i in closed])
    add(
        engine,
        BreakerEvent,
        [
            dict(kind="channel", name="sms", state="open", failures=3, at=days_ago(d))
            for d in (91, 89)
        ],
    )
    add(engine, LoginAudit, [dict(at=days_ago(d), user="ana", event="login") for d in (401, 1)])
    add(
        engine,
        ApprovalCode,
        [
            dict(
                user="ana",
                flow_run_id="r",
                path="cli",
                code_hash="h",
                issued_at=days_ago(d),
                expires_at=days_ago(d),
            )
            for d in (401, 1)
        ],
    )
    load = dict(path="vigil.yaml", sha256="s", started_by="root@h")
    loads = add(
        engine,
        ConfigLoad,
        [
            dict(at=days_ago(500), process="serve", **load),
            dict(at=days_ago(450), process="serve", **load),  # serve's newest: kept however old
            dict(at=days_ago(420), process="api", **load),
            dict(at=days_ago(3), process="api", **load),
        ],
    )

    deleted = apply_retention.fn(engine, NOW, Retention(batch_rows=2))

    assert sorted(i for [i] in _rows(engine, select(table(Incident).c.id))) == closed[1:]
    assert {i for [i] in _rows(engine, select(table(IncidentAlert).c.incident_id))} == set(
        closed[1:]
    )
    assert (
        count(engine, BreakerEvent) == count(engine, LoginAudit) == count(engine, ApprovalCode) == 1
    )
    assert sorted(i for [i] in _rows(engine, select(table(ConfigLoad).c.id))) == [
        loads[1],
        loads[3],
    ]
    assert (deleted["incident"], deleted["breaker_event"], deleted["config_load"]) == (1, 1, 2)
    engine.dispose()
