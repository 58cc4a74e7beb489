"""Keep incidents as alerts fire and resolve: the engine's ``on_firing``/``on_evaluated`` hooks.

A firing alert joins the open incident of a related target (``depends_on``) that fired
within the window; failing that, the one whose members' series moved together with its own
over the hour before (``tasks.core.alerting.correlation``); or it opens one. The likely
cause is recomputed with every member. An incident closes once none of its alerts is
pending or firing, recording how it ended.
"""

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Engine, insert, select, update
from sqlmodel import col

from models.alerting import Alert, AlertEvent, AlertEventKind
from models.incidents import Incident, IncidentAlert
from models.recovery import RecoveryRun
from models.vocabulary.labels import canonical_labels, parse_canonical
from models.vocabulary.run_states import RunState
from tasks.alerting.correlated import moved_with
from tasks.alerting.hooks import Evaluated, FiringAlert
from tasks.core.alerting.correlation import THRESHOLD
from tasks.core.alerting.incidents import (
    Ancestors,
    Member,
    OpenIncident,
    ending,
    incident_for,
    likely_cause,
)

INCIDENT = Incident.__table__  # type: ignore[attr-defined]
MEMBER = IncidentAlert.__table__  # type: ignore[attr-defined]
STILL_ON = ("pending", "firing")


class IncidentTracker:
    """Group firing alerts into incidents in the store; close them when all resolved."""

    def __init__(
        self,
        db: Engine,
        ancestors: Ancestors,
        *,
        window_s: float = 300.0,
        watched: Mapping[str, str] | None = None,
        correlation: float | None = THRESHOLD,
    ) -> None:
        """``watched`` maps a rule to the metric it reads (an alert with a ``metric`` label
        names its own); ``correlation`` is the r at which series moved together (None: off)."""
        self.db, self.ancestors, self.window_s = db, ancestors, window_s
        self.watched, self.correlation = watched or {}, correlation

    def on_firing(self, alert: FiringAlert) -> None:
        """Put ``alert`` into its incident (a new one if none is related and recent)."""
        target = alert.labels.get("target", "")
        with self.db.begin() as conn:
            found = open_incidents(conn)
            chosen = incident_for(
                target, alert.fired_at, found, self.ancestors, window_s=self.window_s
            )
            joined_by = "depends_on"
            if chosen is None and self.correlation is not None:
                recent = [i.id for i in found if alert.fired_at - i.last_fired_at <= self.window_s]
                match = moved_with(conn, alert, recent, self.watched, self.correlation)
                if match is not None:
                    chosen, joined_by = match[0], f"moved together (r={match[1]:.2f})"
            if chosen is None:
                chosen, joined_by = _open_incident(conn, alert, target), "opened it"
            _add_member(conn, chosen, alert, target, joined_by)
            members = [*next((i.members for i in found if i.id == chosen), ())]
            cause = likely_cause(
                [*members, Member(target, alert.rule, alert.fired_at)], self.ancestors
            )
            conn.execute(
                update(INCIDENT)
                .where(INCIDENT.c.id == chosen)
                .values(cause_target=cause.target, cause_rule=cause.rule)
            )

    def on_evaluated(self, evaluated: Evaluated) -> None:
        """Close the open incidents none of whose alerts is pending or firing any more."""
        with self.db.begin() as conn:
            for incident_id, fingerprints, opened_at in _open_members(conn):
                alerts = conn.execute(
                    select(col(Alert.id), col(Alert.state), col(Alert.resolved_at)).where(
                        col(Alert.fingerprint).in_(fingerprints)
                    )
                ).all()
                if any(a.state in STILL_ON for a in alerts):
                    continue
                ends = [_aware(a.resolved_at) for a in alerts if a.resolved_at is not None]
                closed_at = max(ends, default=_utc(evaluated.now))
                how = ending(
                    was_auto_fixed=_was_fixed(conn, incident_id, opened_at, closed_at),
                    was_acknowledged=_was_acked(conn, [a.id for a in alerts], opened_at, closed_at),
                )
                conn.execute(
                    update(INCIDENT)
                    .where(INCIDENT.c.id == incident_id, INCIDENT.c.closed_at.is_(None))
                    .values(closed_at=closed_at, ending=how, version=INCIDENT.c.version + 1)
                )


def _open_incident(conn: Connection, alert: FiringAlert, target: str) -> int:
    values = {
        "opened_at": _utc(alert.fired_at),
        "cause_target": target,
        "cause_rule": alert.rule,
        "found_by": alert.rule,
        "version": 0,
    }
    key = conn.execute(insert(INCIDENT).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _add_member(
    conn: Connection, incident_id: int, alert: FiringAlert, target: str, joined_by: str
) -> None:
    """Add ``alert`` to the incident unless it is already a member (it fired again)."""
    already = conn.execute(
        select(MEMBER.c.id).where(
            MEMBER.c.incident_id == incident_id, MEMBER.c.fingerprint == alert.fingerprint
        )
    ).first()
    if already is None:
        values = {
            "incident_id": incident_id,
            "fingerprint": alert.fingerprint,
            "rule": alert.rule,
            "target": target,
            "fired_at": _utc(alert.fired_at),
            "labels": canonical_labels(alert.labels),
            "joined_by": joined_by,
        }
        conn.execute(insert(MEMBER).values(**values))


def open_incidents(conn: Connection) -> list[OpenIncident]:
    """Every open incident with its members (for grouping decisions)."""
    rows = conn.execute(
        select(MEMBER.c.incident_id, MEMBER.c.target, MEMBER.c.rule, MEMBER.c.fired_at)
        .join(INCIDENT, INCIDENT.c.id == MEMBER.c.incident_id)
        .where(INCIDENT.c.closed_at.is_(None))
    ).all()
    grouped: dict[int, list[Member]] = defaultdict(list)
    for incident_id, target, rule, fired_at in rows:
        grouped[incident_id].append(Member(target, rule, _aware(fired_at).timestamp()))
    return [OpenIncident(i, tuple(m)) for i, m in grouped.items()]


def incident_of(conn: Connection, fingerprints: list[str]) -> dict[str, int]:
    """The open incident of each of ``fingerprints`` that has one."""
    rows = conn.execute(
        select(MEMBER.c.fingerprint, MEMBER.c.incident_id)
        .join(INCIDENT, INCIDENT.c.id == MEMBER.c.incident_id)
        .where(INCIDENT.c.closed_at.is_(None), MEMBER.c.fingerprint.in_(fingerprints))
    ).all()
    return {fp: incident_id for fp, incident_id in rows}


def _open_members(conn: Connection) -> list[tuple[int, list[str], datetime]]:
    rows = conn.execute(
        select(INCIDENT.c.id, INCIDENT.c.opened_at, MEMBER.c.fingerprint)
        .join(MEMBER, MEMBER.c.incident_id == INCIDENT.c.id)
        .where(INCIDENT.c.closed_at.is_(None))
    ).all()
    grouped: dict[int, tuple[datetime, list[str]]] = {}
    for incident_id, opened_at, fingerprint in rows:
        grouped.setdefault(incident_id, (_aware(opened_at), []))[1].append(fingerprint)
    return [(i, fps, opened) for i, (opened, fps) in grouped.items()]


def _was_fixed(conn: Connection, incident_id: int, start: datetime, end: datetime) -> bool:
    """A recovery triggered by one of its alerts succeeded on that alert's target meanwhile."""
    members = conn.execute(
        select(MEMBER.c.rule, MEMBER.c.target).where(MEMBER.c.incident_id == incident_id)
    ).all()
    for rule, target in members:
        fixed = conn.execute(
            select(col(RecoveryRun.id)).where(
                col(RecoveryRun.trigger) == f"alert:{rule}",
                col(RecoveryRun.target) == target,
                col(RecoveryRun.state) == RunState.SUCCEEDED,
                col(RecoveryRun.finished_at) >= start,
                col(RecoveryRun.finished_at) <= end,
            )
        ).first()
        if fixed is not None:
            return True
    return False


def _was_acked(conn: Connection, alert_ids: list[int], start: datetime, end: datetime) -> bool:
    found = conn.execute(
        select(col(AlertEvent.id)).where(
            col(AlertEvent.alert_id).in_(alert_ids),
            col(AlertEvent.kind) == AlertEventKind.ACKNOWLEDGED,
            col(AlertEvent.at) >= start,
            col(AlertEvent.at) <= end,
        )
    ).first()
    return found is not None


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def recent_incidents(engine: Engine, since: datetime, until: datetime) -> list[dict]:
    """Incidents open at any time within the span, newest first, with their alerts' targets.

    Each: ``id, started_at, ended_at`` (epoch seconds; None: open), ``cause`` (target),
    ``cause_rule, found_by, ending, alerts`` (count), ``targets`` (sorted).
    """
    return _incidents(
        engine,
        INCIDENT.c.opened_at <= until,
        (INCIDENT.c.closed_at.is_(None)) | (INCIDENT.c.closed_at >= since),
    )


def one_incident(engine: Engine, incident_id: int) -> dict | None:
    """The incident ``incident_id`` as ``recent_incidents`` shows it, or None."""
    found = _incidents(engine, INCIDENT.c.id == incident_id)
    return found[0] if found else None


def incident_alerts(engine: Engine, incident_ids: list[int]) -> dict[int, list[dict]]:
    """Each incident's member alerts, oldest first: ``fingerprint, rule, target, labels,
    fired_at`` (epoch seconds) and the alert's ``alert_id, state, resolved_at`` now."""
    query = (
        select(MEMBER, col(Alert.id).label("alert_id"), col(Alert.state), col(Alert.resolved_at))
        .outerjoin(Alert, col(Alert.fingerprint) == MEMBER.c.fingerprint)
        .where(MEMBER.c.incident_id.in_(incident_ids))
        .order_by(MEMBER.c.fired_at, MEMBER.c.id)
    )
    found: dict[int, list[dict]] = {i: [] for i in incident_ids}
    with engine.connect() as conn:
        for row in conn.execute(query):
            found[row.incident_id].append(
                {
                    "fingerprint": row.fingerprint,
                    "rule": row.rule,
                    "target": row.target,
                    "labels": parse_canonical(row.labels),
                    "joined_by": row.joined_by,
                    "fired_at": _aware(row.fired_at).timestamp(),
                    "alert_id": row.alert_id,
                    "state": row.state,
                    "resolved_at": _aware(row.resolved_at).timestamp() if row.resolved_at else None,
                }
            )
    return found


def _incidents(engine: Engine, *where: ColumnElement[bool]) -> list[dict]:
    query = (
        select(INCIDENT, MEMBER.c.target)
        .join(MEMBER, MEMBER.c.incident_id == INCIDENT.c.id)
        .where(*where)
        .order_by(INCIDENT.c.opened_at.desc(), INCIDENT.c.id.desc())
    )
    found: dict[int, dict] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            item = found.setdefault(
                row.id,
                {
                    "id": row.id,
                    "started_at": _aware(row.opened_at).timestamp(),
                    "ended_at": _aware(row.closed_at).timestamp() if row.closed_at else None,
                    "cause": row.cause_target,
                    "cause_rule": row.cause_rule,
                    "found_by": row.found_by,
                    "ending": row.ending,
                    "alerts": 0,
                    "targets": set(),
                },
            )
            item["alerts"] += 1
            item["targets"].add(row.target)
    return [{**i, "targets": sorted(i["targets"])} for i in found.values()]
