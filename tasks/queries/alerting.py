"""Alerts as the Alerts, Overview and Metrics pages read them: alerts, their history,
silences, deliveries, and the rule thresholds drawn on charts."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select
from sqlmodel import col

from models.alerting import Alert, AlertEvent, AlertTransition, Notification, Silence
from models.store import SeriesInfo
from models.vocabulary.labels import parse_canonical
from models.vocabulary.selectors import Selector, parse_selector
from models.vocabulary.severity import severity_rank
from tasks.alerting.timeline import read_timeline
from tasks.queries.frames import utc_columns

if TYPE_CHECKING:
    import pandas as pd

TABLES = (Alert, AlertTransition, AlertEvent, Silence, Notification)
ALERT_FIELDS = (
    Alert.id, Alert.rule, Alert.state, Alert.labels, Alert.value, Alert.active_since,
    Alert.fired_at, Alert.resolved_at, Alert.is_flapping, Alert.ack_by, Alert.ack_at,
    Alert.ack_comment, Alert.ack_expires_at,
)  # fmt: skip
ALERT_COLUMNS = [c.key for c in ALERT_FIELDS]
ALERT_COLUMNS.insert(2, "severity")  # from the labels
TRANSITION_FIELDS = (
    AlertTransition.at, AlertTransition.alert_id, AlertTransition.rule,
    AlertTransition.from_state, AlertTransition.to_state, AlertTransition.value,
    AlertTransition.reason,
)  # fmt: skip
SILENCE_FIELDS = (
    Silence.id, Silence.matchers, Silence.starts_at, Silence.ends_at, Silence.created_by,
    Silence.comment, Silence.expired_by,
)  # fmt: skip
DELIVERY_FIELDS = (
    Notification.created_at, Notification.channel, Notification.kind, Notification.title,
    Notification.status, Notification.attempts, Notification.last_error, Notification.sent_at,
)  # fmt: skip
TIMELINE_COLUMNS = ["at", "kind", "summary", "actor"]


def alerts(
    engine: Engine,
    *,
    states: Sequence[str] = (),
    severities: Sequence[str] = (),
    selector: Selector | None = None,
    limit: int = 500,
) -> "pd.DataFrame":
    """Return alerts (most severe, then newest first) in ``states`` with a ``severity`` label
    in ``severities`` whose labels match ``selector``; empty filters keep everything.

    Columns: ``ALERT_COLUMNS``; ``labels`` is the label dict without ``severity``.
    """
    import pandas as pd

    query = select(*ALERT_FIELDS)
    if states:
        query = query.where(col(Alert.state).in_(list(states)))
    query = query.order_by(col(Alert.active_since).desc(), col(Alert.id).desc())
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for row in rows:
        labels = parse_canonical(row.labels)
        if severities and labels.get("severity") not in severities:
            continue
        if selector is not None and not selector.matches(row.rule, labels):
            continue
        severity = labels.pop("severity", "")
        out.append({**row._asdict(), "labels": labels, "severity": severity})
        if len(out) == limit:
            break
    frame = pd.DataFrame(out, columns=ALERT_COLUMNS)
    utc_columns(frame, "active_since", "fired_at", "resolved_at", "ack_at", "ack_expires_at")
    most_severe_first = (-frame["severity"].map(severity_rank)).argsort(kind="stable")
    return frame.iloc[most_severe_first].reset_index(drop=True)


def alert_transitions(engine: Engine, *, since: datetime, limit: int = 500) -> "pd.DataFrame":
    """Return alert state changes since ``since``, newest first."""
    import pandas as pd

    at = col(AlertTransition.at)
    query = select(*TRANSITION_FIELDS).where(at >= since).order_by(at.desc()).limit(limit)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query)]
    return utc_columns(pd.DataFrame(rows, columns=[c.key for c in TRANSITION_FIELDS]), "at")


def alert_id(engine: Engine, fingerprint: str) -> int | None:
    """Return the id of the alert with ``fingerprint`` (from a notification's link), or None."""
    with engine.connect() as conn:
        return conn.scalar(select(Alert.id).where(col(Alert.fingerprint) == fingerprint))


def alert_timeline(engine: Engine, alert_id: int) -> "pd.DataFrame":
    """Return one alert's history, oldest first: state changes, notifications with their
    delivery result, acknowledgements, recovery runs, approvals and steps."""
    import pandas as pd

    with engine.connect() as conn:
        found = read_timeline(conn, str(alert_id))
    events = found[1] if found else []
    frame = pd.DataFrame(
        [(e.at, e.kind, e.summary, e.actor) for e in events], columns=TIMELINE_COLUMNS
    )
    frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
    return frame


def silences(engine: Engine, *, now: datetime, include_expired: bool = False) -> "pd.DataFrame":
    """Return silences that have not ended (or all, newest first)."""
    import pandas as pd

    query = select(*SILENCE_FIELDS)
    if not include_expired:
        query = query.where(col(Silence.ends_at) > now)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query.order_by(col(Silence.id).desc()))]
    frame = pd.DataFrame(rows, columns=[c.key for c in SILENCE_FIELDS])
    return utc_columns(frame, "starts_at", "ends_at")


def deliveries(engine: Engine, *, limit: int = 200) -> "pd.DataFrame":
    """Return the newest notifications with their delivery status and last error."""
    import pandas as pd

    newest = (col(Notification.created_at).desc(), col(Notification.id).desc())
    query = select(*DELIVERY_FIELDS).order_by(*newest).limit(limit)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=[c.key for c in DELIVERY_FIELDS])
    return utc_columns(frame, "created_at", "sent_at")


def rule_thresholds(rules: Sequence[Any], series: Sequence[SeriesInfo]) -> "pd.DataFrame":
    """Return the thresholds of alert rules that watch any of ``series``.

    Threshold rules give ``value``, forecast rules ``threshold``. Columns: ``rule, value,
    severity``. ``rules`` are the config's rules (models or, before alerting, plain dicts).
    """
    import pandas as pd

    out = []
    for rule in rules:
        spec = rule if isinstance(rule, Mapping) else rule.model_dump(mode="json", by_alias=True)
        kind = spec.get("kind", "threshold")
        level = spec.get("value") if kind == "threshold" else spec.get("threshold")
        if not spec.get("series") or level is None or kind not in ("threshold", "forecast"):
            continue
        selector = parse_selector(spec["series"])
        if any(selector.matches(s.name, s.labels) for s in series):
            out.append(
                {"rule": spec["name"], "value": float(level), "severity": spec.get("severity", "")}
            )
    return pd.DataFrame(out, columns=["rule", "value", "severity"])
