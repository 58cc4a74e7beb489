"""Dismissals in the store: mark an alert a false positive; read them back (SQLAlchemy Core)."""

import json
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from models.alerting import AlertEventKind
from models.dismissal import AlertDismissal
from models.vocabulary.labels import canonical_labels
from tasks.alerting import store as repo
from tasks.core.alerting.trust import dismissal_key, is_about

DISMISSAL = AlertDismissal.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Dismissed:
    """A stored dismissal, as readers need it."""

    id: int
    rule: str
    labels: dict[str, str]
    value: float | None
    fired_at: float | None
    until: float
    by: str


def dismiss(
    conn: Connection, ref: str, *, by: str, comment: str, until: float, now: float
) -> Dismissed | None:
    """Dismiss the alert with id or fingerprint ``ref`` until ``until``; None if unknown."""
    row = repo.find_alert(conn, ref)
    if row is None:
        return None
    values = {
        "alert_id": row.id,
        "rule": row.rule,
        "labels": canonical_labels(row.labels),
        "value": row.value,
        "fired_at": repo.to_dt(row.lifecycle.fired_at),
        "until": repo.to_dt(until),
        "created_by": by,
        "comment": comment,
        "created_at": repo.to_dt(now),
    }
    new_id = conn.execute(insert(DISMISSAL).values(**values).returning(DISMISSAL.c.id)).scalar_one()
    detail = f"false positive until {repo.to_dt(until):%Y-%m-%d %H:%M:%S} UTC: {comment}".strip()
    repo.record_event(conn, row, AlertEventKind.DISMISSED, now, by, detail.rstrip(": "))
    return Dismissed(new_id, row.rule, row.labels, row.value, row.lifecycle.fired_at, until, by)


def _dismissed(found) -> Dismissed:  # type: ignore[no-untyped-def]
    m = found._mapping
    return Dismissed(
        m["id"],
        m["rule"],
        json.loads(m["labels"]),
        m["value"],
        repo.to_ts(m["fired_at"]),
        repo.to_ts(m["until"]) or 0.0,
        m["created_by"],
    )


def active_keys(conn: Connection, now: float) -> set[tuple]:  # type: ignore[type-arg]
    """Keys (rule, series labels) of dismissals still in force at ``now``."""
    query = select(DISMISSAL).where(DISMISSAL.c.until > repo.to_dt(now))
    return {dismissal_key(d.rule, d.labels) for d in map(_dismissed, conn.execute(query))}


def about_series(conn: Connection, name: str, labels: dict[str, str]) -> list[Dismissed]:
    """Every dismissal of an alert about the series ``name{labels}`` (its ``metric`` label)."""
    query = select(DISMISSAL).where(
        DISMISSAL.c.labels.like(f'%"metric":{json.dumps(name, ensure_ascii=False)}%')
    )
    found = [_dismissed(row) for row in conn.execute(query.order_by(DISMISSAL.c.id))]
    return [d for d in found if d.labels.get("metric") == name and is_about(d.labels, name, labels)]
