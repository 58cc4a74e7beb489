"""Which open incident did a firing alert's series move together with? Reads the hour of
samples before it fired, of its series and of each candidate incident's members' series."""

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, bindparam, select, text

from models.incidents import IncidentAlert
from models.metrics import Series
from models.vocabulary.labels import parse_canonical
from tasks.alerting.hooks import FiringAlert
from tasks.core.alerting.correlation import (
    LOOKBACK_S,
    best_match,
    co_movement,
    minute_means,
    watched_labels,
)

MEMBER = IncidentAlert.__table__  # type: ignore[attr-defined]
SERIES = Series.__table__  # type: ignore[attr-defined]
MAX_COMPARED = 50  # earliest members read: an alert storm must not read every series twice
_POINTS = text(
    "SELECT ts_ms, value FROM sample WHERE series_id IN :ids AND ts_ms BETWEEN :start AND :end"
).bindparams(bindparam("ids", expanding=True))


def moved_with(
    conn: Connection,
    alert: FiringAlert,
    incident_ids: Sequence[int],
    watched: Mapping[str, str],
    threshold: float,
) -> tuple[int, float] | None:
    """``(incident id, r)`` of the incident among ``incident_ids`` one of whose members'
    series moved most closely with ``alert``'s (r at or above ``threshold``), or None."""
    if not incident_ids:
        return None
    mine = series_means(conn, alert.rule, alert.labels, alert.fired_at, watched)
    if not mine:
        return None
    members = conn.execute(
        select(MEMBER.c.incident_id, MEMBER.c.rule, MEMBER.c.labels)
        .where(MEMBER.c.incident_id.in_(list(incident_ids)))
        .order_by(MEMBER.c.fired_at, MEMBER.c.id)
        .limit(MAX_COMPARED)
    ).all()
    scores = [
        (
            incident_id,
            co_movement(
                mine, series_means(conn, rule, parse_canonical(labels), alert.fired_at, watched)
            ),
        )
        for incident_id, rule, labels in members
    ]
    return best_match(scores, threshold=threshold)


def series_means(
    conn: Connection,
    rule: str,
    labels: Mapping[str, str],
    at: float,
    watched: Mapping[str, str],
) -> dict[int, float]:
    """Minute means over the hour before ``at`` of the series an alert is about (the rule's
    metric, or the alert's ``metric`` label; series whose labels are all the alert's)."""
    metric = labels.get("metric") or watched.get(rule)
    if not metric:
        return {}  # a check's alert: no series of its own
    rows = conn.execute(select(SERIES.c.id, SERIES.c.labels).where(SERIES.c.name == metric))
    ids = [i for i, text_labels in rows if watched_labels(labels, parse_canonical(text_labels))]
    if not ids:
        return {}
    span = {"ids": ids, "start": round((at - LOOKBACK_S) * 1000), "end": round(at * 1000)}
    return minute_means((int(ts), float(v)) for ts, v in conn.execute(_POINTS, span))
