"""Read one alert's timeline from the store (the merge is tasks.core.alerting.timeline)."""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, inspect, select

from models.alerting import Notification
from models.recovery import RecoveryAudit, RecoveryRun
from tasks.alerting import store as repo
from tasks.alerting.store import AlertRow
from tasks.core.alerting import timeline as core
from tasks.core.alerting.lifecycle import fingerprint
from tasks.core.alerting.timeline import TimelineEvent, Watch
from tasks.store import breakers

NOTIFICATION = Notification.__table__  # type: ignore[attr-defined]
RUN = RecoveryRun.__table__  # type: ignore[attr-defined]
AUDIT = RecoveryAudit.__table__  # type: ignore[attr-defined]


def read_timeline(conn: Connection, ref: str) -> tuple[AlertRow, list[TimelineEvent]] | None:
    """Return alert ``ref`` (id or fingerprint) and its events, oldest first; None if unknown."""
    row = repo.find_alert(conn, ref)
    if row is None:
        return None
    runs, audits = _recoveries(conn, row)
    notices = _notifications(conn, row.fingerprint)
    events = core.merge(
        core.transition_events(_of_alert(conn, repo.TRANSITION, row)),
        core.notification_events(notices),
        core.alert_events(_of_alert(conn, repo.EVENT, row)),
        core.recovery_events(runs, audits),
        _breaker_events(conn, _watches(row, notices, runs)),
    )
    return row, events


def _watches(row: AlertRow, notices: list[dict], runs: list[dict]) -> list[Watch]:
    """The callees the alert used and when: its channels while a notice waited to go, its
    scrape target while it was active, any recovery HTTP step while its runs ran."""
    ever = float("inf")
    out: list[Watch] = [
        (breakers.CHANNEL, n["channel"], n["created_at"], n["sent_at"] or ever) for n in notices
    ]
    job, instance = row.labels.get("job"), row.labels.get("instance")
    began = row.lifecycle.active_since or row.lifecycle.fired_at
    if job and instance and began is not None:
        out.append((breakers.SCRAPE, f"{job} {instance}", began, row.lifecycle.resolved_at or ever))
    out += [(breakers.RECOVERY, None, r["requested_at"], r["finished_at"] or ever) for r in runs]
    return out


def _breaker_events(conn: Connection, watches: list[Watch]) -> list[TimelineEvent]:
    if not watches or not inspect(conn).has_table(breakers.EVENTS.name):
        return []
    since = min(w[2] for w in watches)
    found = breakers.transitions(conn, since=since)
    rows = [
        {"kind": t.kind, "name": t.name, "state": str(t.state), "failures": t.failures, "at": t.at}
        for t in found
    ]
    return core.breaker_events(rows, watches)


def _of_alert(conn: Connection, table: Any, row: AlertRow) -> list[dict[str, Any]]:
    """Rows of ``table`` (transitions, events) about the alert, in the order they were added."""
    query = select(table).where(table.c.alert_id == row.id).order_by(table.c.id)
    return [_epochs(dict(r._mapping)) for r in conn.execute(query)]


def _notifications(conn: Connection, fp: str) -> list[dict[str, Any]]:
    """Notifications that named ``fp`` (the fingerprints column is a JSON list)."""
    n = NOTIFICATION.c
    query = select(NOTIFICATION).where(n.fingerprints.like(f'%"{fp}"%')).order_by(n.id)
    return [_epochs(dict(r._mapping)) for r in conn.execute(query)]


def _recoveries(conn: Connection, row: AlertRow) -> tuple[list[dict], list[dict]]:
    """Runs this alert started: trigger ``alert:<rule>``, its target and its very labels."""
    if not inspect(conn).has_table(RUN.name):
        return [], []
    r = RUN.c
    query = select(RUN).where(
        r.trigger == f"alert:{row.rule}", r.target == row.labels.get("target", "")
    )
    runs = [
        _epochs(dict(found._mapping) | {"state": str(found.state).lower()})
        for found in conn.execute(query.order_by(r.id))
        if fingerprint(json.loads(found.labels or "{}")) == row.fingerprint
    ]
    if not runs:
        return [], []
    a = AUDIT.c
    audit_query = select(AUDIT).where(a.run_id.in_([run["id"] for run in runs])).order_by(a.id)
    audits = [
        _epochs(dict(found._mapping) | {"event": str(found.event).lower()})
        for found in conn.execute(audit_query)
    ]
    return runs, audits


def _epochs(record: dict[str, Any]) -> dict[str, Any]:
    """Stored datetimes to epoch seconds (the pure merge knows no time zones)."""
    return {k: repo.to_ts(v) if isinstance(v, datetime) else v for k, v in record.items()}
