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
    "SELECT series_id, ts_ms, value FROM sample "
    "WHERE series_id IN :ids AND ts_ms BETWEEN :start AND :end"
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
    members = conn.execute(
        select(MEMBER.c.incident_id, MEMBER.c.rule, MEMBER.c.labels)
        .where(MEMBER.c.incident_id.in_(list(incident_ids)))
        .order_by(MEMBER.c.fired_at, MEMBER.c.id)
        .limit(MAX_COMPARED)
    ).all()
    about = [(alert.rule, alert.labels)] + [(r, parse_canonical(ls)) for _, r, ls in members]
    mine, *theirs = many_series_means(conn, about, alert.fired_at, watched)
    if not mine:
        return None
    scores = [
        (incident_id, co_movement(mine, means))
        for (incident_id, _, _), means in zip(members, theirs, strict=True)
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
    return many_series_means(conn, [(rule, labels)], at, watched)[0]


def many_series_means(
    conn: Connection,
    alerts: Sequence[tuple[str, Mapping[str, str]]],
    at: float,
    watched: Mapping[str, str],
) -> list[dict[int, float]]:
    """``series_means`` of each ``(rule, labels)``, in two queries whatever their number:
    the series of their metrics, then the hour of samples of every series any of them needs."""
    metrics = [labels.get("metric") or watched.get(rule) for rule, labels in alerts]
    known: dict[str, list[tuple[int, dict[str, str]]]] = {}
    if names := {m for m in metrics if m}:
        query = select(SERIES.c.id, SERIES.c.name, SERIES.c.labels).where(SERIES.c.name.in_(names))
        for series_id, name, text_labels in conn.execute(query):
            known.setdefault(name, []).append((series_id, parse_canonical(text_labels)))
    ids = [
        [
            i
            for i, series_labels in known.get(metric or "", [])
            if watched_labels(labels, series_labels)
        ]
        for metric, (_, labels) in zip(metrics, alerts, strict=True)
    ]  # a check's alert has no metric, hence no series of its own
    points: dict[int, list[tuple[int, float]]] = {}
    if wanted := sorted({i for each in ids for i in each}):
        span = {"ids": wanted, "start": round((at - LOOKBACK_S) * 1000), "end": round(at * 1000)}
        for series_id, ts, value in conn.execute(_POINTS, span):
            points.setdefault(series_id, []).append((int(ts), float(value)))
    return [minute_means(p for i in each for p in points.get(i, ())) for each in ids]
