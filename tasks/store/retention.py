"""Retention for everything Vigil writes besides samples: bounded batched deletes per kind.

Each kind is deleted ``batch_rows`` rows per transaction. What an alert's timeline shows
(transitions, events, notifications, the recovery runs it started) is kept while the alert is.
"""

import json
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select

from models.alerting import Alert, AlertEvent, AlertTransition, Notification
from models.analytics import ModelStatus
from models.batched import delete_ids, delete_where
from models.checks import CheckResult, HealthScoreRecord
from models.config.collectors import Retention
from models.dismissal import AlertDismissal
from models.incidents import Incident, IncidentAlert
from models.recovery import RecoveryAudit, RecoveryRun
from tasks.core.alerting.lifecycle import AlertState, fingerprint
from tasks.core.store.thinning import HistoryRow, rows_to_drop
from tasks.store import shared_counters
from tasks.store.shared_counters import RETENTION_DELETED

ALERT = Alert.__table__  # type: ignore[attr-defined]
NOTIFICATION = Notification.__table__  # type: ignore[attr-defined]
RUN = RecoveryRun.__table__  # type: ignore[attr-defined]
INCIDENT = Incident.__table__  # type: ignore[attr-defined]
FORGOTTEN_ALERT_STATES = (AlertState.RESOLVED, AlertState.INACTIVE)


def trim_everything(engine: Engine, now: datetime, retention: Retention) -> dict[str, int]:
    """Apply every retention but the samples'; return rows deleted per table."""
    n = retention.batch_rows
    deleted = trim_history(engine, now, retention)
    deleted |= trim_alerts(engine, now - retention.alerts, n)
    kept = alert_fingerprints(engine)
    deleted["notification"] = trim_notifications(engine, now - retention.notifications, kept, n)
    deleted |= trim_recoveries(engine, now - retention.recoveries, kept, n)
    deleted |= trim_analytics(engine, now, retention)
    deleted |= trim_records(engine, now, retention)
    deleted["series"] = trim_empty_series(engine, now - retention.raw, n)
    with engine.begin() as conn:
        shared_counters.add(
            conn, [(RETENTION_DELETED, {"table": t}, float(k)) for t, k in deleted.items() if k]
        )
    return deleted


def trim_history(engine: Engine, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete old check results and health scores, keeping their transitions longer."""
    changes_after, n = now - retention.transitions, retention.batch_rows
    results = CheckResult.__table__  # type: ignore[attr-defined]
    scores = HealthScoreRecord.__table__  # type: ignore[attr-defined]
    return {
        "check_result": _thin(
            engine,
            results,
            [results.c.check],
            [results.c.status, results.c.is_hard],
            now - retention.check_results,
            changes_after,
            n,
        ),
        "health_score": _thin(
            engine,
            scores,
            [scores.c.scope, scores.c.node],
            [scores.c.level],
            now - retention.health_scores,
            changes_after,
            n,
        ),
    }


def _thin(
    engine: Engine,
    table: Any,
    subject: list[Any],
    state: list[Any],
    older_than: datetime,
    changes_after: datetime,
    batch_rows: int,
) -> int:
    """Walk the rows older than ``older_than`` by id; delete all but the state changes."""
    is_old = (table.c.at < changes_after).label("is_old")
    query = select(table.c.id, is_old, *subject, *state).where(table.c.at < older_than)
    previous: dict[Hashable, Hashable] = {}
    width = len(subject)

    def choose(found: Sequence[Any]) -> list[int]:
        rows = [
            HistoryRow(r[0], bool(r[1]), tuple(r[2 : 2 + width]), tuple(r[2 + width :]))
            for r in found
        ]
        return rows_to_drop(rows, previous)

    return _delete_walked(engine, table, query, choose, batch_rows)


def trim_alerts(engine: Engine, cutoff: datetime, batch_rows: int) -> dict[str, int]:
    """Delete alerts resolved (or never fired) before ``cutoff``, with their transitions and events.

    Each batch is one transaction; an alert that fired again meanwhile is left alone.
    """
    forgettable = (
        ALERT.c.state.in_([str(s) for s in FORGOTTEN_ALERT_STATES]),
        ALERT.c.updated_at < cutoff,
    )
    children = [AlertTransition.__table__, AlertEvent.__table__]  # type: ignore[attr-defined]
    deleted = {"alert": 0, "alert_transition": 0, "alert_event": 0}
    while True:
        with engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(ALERT.c.id).where(*forgettable).order_by(ALERT.c.id).limit(batch_rows)
                ).scalars()
            )
            if not ids:
                break
            gone = conn.execute(delete(ALERT).where(ALERT.c.id.in_(ids), *forgettable))
            deleted["alert"] += gone.rowcount
            for child in children:
                orphaned = child.c.alert_id.in_(ids) & child.c.alert_id.not_in(select(ALERT.c.id))
                deleted[child.name] += conn.execute(delete(child).where(orphaned)).rowcount
    deleted["silence"] = delete_where(
        engine, "silence", ("id",), "ends_at < :cutoff", {"cutoff": cutoff}, batch_rows=batch_rows
    )
    deleted["alert_dismissal"] = delete_where(
        engine,
        AlertDismissal.__tablename__,
        ("id",),
        "until < :cutoff",
        {"cutoff": cutoff},
        batch_rows=batch_rows,
    )
    return deleted


def alert_fingerprints(engine: Engine) -> set[str]:
    """The fingerprints of every alert still stored (their timelines are kept)."""
    with engine.connect() as conn:
        return set(conn.execute(select(ALERT.c.fingerprint)).scalars())


def trim_notifications(engine: Engine, cutoff: datetime, kept: set[str], batch_rows: int) -> int:
    """Delete delivered or failed notifications older than ``cutoff`` that name no kept alert."""
    n = NOTIFICATION.c
    query = select(n.id, n.fingerprints).where(
        n.status.in_(["sent", "failed"]), n.created_at < cutoff
    )

    def choose(found: Sequence[Any]) -> list[int]:
        return [r.id for r in found if not kept.intersection(json.loads(r.fingerprints or "[]"))]

    return _delete_walked(engine, NOTIFICATION, query, choose, batch_rows)


def trim_recoveries(
    engine: Engine, cutoff: datetime, kept: set[str], batch_rows: int
) -> dict[str, int]:
    """Delete runs finished before ``cutoff`` (unless a kept alert started them) and audits."""
    r = RUN.c
    query = select(r.id, r.trigger, r.labels).where(r.finished_at < cutoff)

    def is_kept(row: Any) -> bool:
        started_by_alert = str(row.trigger).startswith("alert:")
        return started_by_alert and fingerprint(json.loads(row.labels or "{}")) in kept

    def choose(found: Sequence[Any]) -> list[int]:
        return [row.id for row in found if not is_kept(row)]

    audit = RecoveryAudit.__tablename__
    runs = _delete_walked(engine, RUN, query, choose, batch_rows, children=[(audit, "run_id")])
    loose = delete_where(  # decisions before any run (skipped, disabled) and runs' orphans
        engine,
        audit,
        ("id",),
        "at < :cutoff AND (run_id IS NULL OR run_id NOT IN (SELECT id FROM recovery_run))",
        {"cutoff": cutoff},
        batch_rows=batch_rows,
    )
    return {"recovery_run": runs, "recovery_audit": loose}


def trim_records(engine: Engine, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete incidents closed as long ago as old alerts (with their members), breaker state
    changes, and the access audit: logins, approval codes and configuration loads (the newest
    load of each process stays, as the next load's diff reads it)."""
    n, alerts_cutoff = retention.batch_rows, now - retention.alerts
    query = select(INCIDENT.c.id).where(INCIDENT.c.closed_at < alerts_cutoff)
    incidents = _delete_walked(
        engine,
        INCIDENT,
        query,
        lambda found: [row.id for row in found],
        n,
        children=[(IncidentAlert.__tablename__, "incident_id")],
    )
    since = {"cutoff": now - retention.access_audit}
    oldest = {"cutoff": now - retention.breaker_events}
    return {
        "incident": incidents,
        "breaker_event": delete_where(
            engine, "breaker_event", ("id",), "at < :cutoff", oldest, batch_rows=n
        ),
        "login_audit": delete_where(
            engine, "login_audit", ("id",), "at < :cutoff", since, batch_rows=n
        ),
        "approval_code": delete_where(
            engine, "approval_code", ("id",), "expires_at < :cutoff", since, batch_rows=n
        ),
        "config_load": delete_where(
            engine,
            "config_load",
            ("id",),
            "at < :cutoff AND id NOT IN (SELECT MAX(id) FROM config_load GROUP BY process)",
            since,
            batch_rows=n,
        ),
    }


def _delete_walked(
    engine: Engine,
    table: Any,
    query: Any,
    choose: Callable[[Sequence[Any]], list[int]],
    batch_rows: int,
    children: Sequence[tuple[str, str]] = (),
) -> int:
    """Walk ``query``'s rows by id, a batch at a time; delete the ids ``choose`` returns.

    Rows named in ``children`` (table, column holding the id) go first.
    """
    after, deleted = 0, 0
    while True:
        with engine.connect() as conn:
            found = conn.execute(
                query.where(table.c.id > after).order_by(table.c.id).limit(batch_rows)
            ).all()
        if not found:
            return deleted
        doomed = choose(found)
        for child, column in children:
            delete_ids(engine, child, doomed, batch_rows=batch_rows, column=column)
        deleted += delete_ids(engine, table.name, doomed, batch_rows=batch_rows)
        after = found[-1].id


def trim_analytics(engine: Engine, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete old forecast issues (not each series' newest), anomaly scores, model versions."""
    n = retention.batch_rows
    newest_issue = (
        "issued_at < (SELECT MAX(f.issued_at) FROM forecast_point f "
        "WHERE f.series_id = forecast_point.series_id)"
    )
    old_versions = (
        "id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER "
        "(PARTITION BY series_id ORDER BY version DESC) AS newer FROM model_version "
        f"WHERE status != '{ModelStatus.CURRENT.name}') ranked WHERE newer > :keep)"
    )  # SQLModel stores an enum column by the member's name
    return {
        "forecast_point": delete_where(
            engine,
            "forecast_point",
            ("id",),
            f"issued_at < :cutoff AND {newest_issue}",
            {"cutoff": now - retention.forecasts},
            batch_rows=n,
        ),
        "anomaly_score": delete_where(
            engine,
            "anomaly_score",
            ("series_id", "detector", "ts_ms"),
            "ts_ms < :cutoff",
            {"cutoff": _ms(now - retention.anomaly_scores)},
            batch_rows=n,
        ),
        "model_version": delete_where(
            engine,
            "model_version",
            ("id",),
            old_versions,
            {"keep": retention.model_versions},
            batch_rows=n,
        ),
    }


def trim_empty_series(engine: Engine, created_before: datetime, batch_rows: int) -> int:
    """Delete series with nothing left: no samples, rollups, scores or models.

    Only series older than ``created_before``; a series is created in the transaction that
    writes its first samples, so a new one is never empty.
    """
    empty = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {table} t WHERE t.series_id = series.id)"
        for table in ("sample", "rollup_1m", "rollup_1h", "anomaly_score", "model_version")
    )
    return delete_where(
        engine,
        "series",
        ("id",),
        f"created_at < :cutoff AND {empty}",
        {"cutoff": created_before},
        batch_rows=batch_rows,
    )


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)
