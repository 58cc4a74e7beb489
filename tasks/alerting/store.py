"""Alert rows in and out of the store, with compare-and-set updates (SQLAlchemy Core)."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from models.alerting import Alert, AlertEvent, AlertEventKind, AlertGroup, AlertTransition, Silence
from models.vocabulary.labels import canonical_labels
from models.vocabulary.selectors import parse_selector
from tasks.core.alerting.grouping import GroupState
from tasks.core.alerting.lifecycle import AlertState, Lifecycle
from tasks.core.alerting.muting import SilenceSpec

ALERT = Alert.__table__  # type: ignore[attr-defined]
TRANSITION = AlertTransition.__table__  # type: ignore[attr-defined]
EVENT = AlertEvent.__table__  # type: ignore[attr-defined]
GROUP = AlertGroup.__table__  # type: ignore[attr-defined]
SILENCE = Silence.__table__  # type: ignore[attr-defined]
CHUNK = 500
ACK_COLUMNS = ("ack_by", "ack_at", "ack_comment", "ack_expires_at")


def to_dt(ts: float | None) -> datetime | None:
    """Epoch seconds to an aware UTC datetime."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def to_ts(value: datetime | None) -> float | None:
    """A stored datetime (SQLite returns it naive, meaning UTC) to epoch seconds."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


@dataclass
class AlertRow:
    """An alert as the engine works on it."""

    fingerprint: str
    rule: str
    labels: dict[str, str]
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    value: float | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    observed_at: float | None = None
    is_flapping: bool = False
    flap_changes: list[float] = field(default_factory=list)
    ack_by: str | None = None
    ack_at: float | None = None
    ack_comment: str | None = None
    ack_expires_at: float | None = None
    escalation_level: int = 0
    escalation_since: float | None = None  # the escalation clock's start (None: fired_at)
    id: int | None = None
    version: int = 0

    def columns(self) -> dict[str, Any]:
        """The row's mutable columns, ready to write."""
        lc = self.lifecycle
        return {
            "state": str(lc.state),
            "active_since": to_dt(lc.active_since),
            "fired_at": to_dt(lc.fired_at),
            "cleared_at": to_dt(lc.cleared_at),
            "resolved_at": to_dt(lc.resolved_at),
            "value": self.value,
            "annotations": json.dumps(self.annotations, sort_keys=True),
            "observed_at": to_dt(self.observed_at),
            "is_flapping": self.is_flapping,
            "flap_changes": json.dumps(self.flap_changes),
            "escalation_level": self.escalation_level,
            "ack_by": self.ack_by,
            "ack_at": to_dt(self.ack_at),
            "ack_comment": self.ack_comment,
            "ack_expires_at": to_dt(self.ack_expires_at),
            "escalation_since": to_dt(self.escalation_since),
        }

    def is_acknowledged(self, now: float) -> bool:
        """True while someone holds the alert (an expired acknowledgement no longer counts)."""
        return self.ack_by is not None and (
            self.ack_expires_at is None or now < self.ack_expires_at
        )

    def clear_ack(self) -> None:
        """Forget the acknowledgement (the event table keeps its history)."""
        self.ack_by = self.ack_at = self.ack_comment = self.ack_expires_at = None


def _row(found: Any) -> AlertRow:
    m = found._mapping
    return AlertRow(
        id=m["id"],
        fingerprint=m["fingerprint"],
        rule=m["rule"],
        labels=json.loads(m["labels"]),
        lifecycle=Lifecycle(
            AlertState(m["state"]),
            to_ts(m["active_since"]),
            to_ts(m["fired_at"]),
            to_ts(m["cleared_at"]),
            to_ts(m["resolved_at"]),
        ),
        value=m["value"],
        annotations=json.loads(m["annotations"]),
        observed_at=to_ts(m["observed_at"]),
        is_flapping=m["is_flapping"],
        flap_changes=json.loads(m["flap_changes"]),
        ack_by=m["ack_by"],
        ack_at=to_ts(m["ack_at"]),
        ack_comment=m["ack_comment"],
        ack_expires_at=to_ts(m["ack_expires_at"]),
        escalation_level=m["escalation_level"],
        escalation_since=to_ts(m["escalation_since"]),
        version=m["version"],
    )


def load_by_fingerprint(conn: Connection, fingerprints: Iterable[str]) -> dict[str, AlertRow]:
    """Return the stored alerts among ``fingerprints``."""
    wanted, out = sorted(set(fingerprints)), {}
    query = select(ALERT).where(ALERT.c.fingerprint.in_(bindparam("fps", expanding=True)))
    for start in range(0, len(wanted), CHUNK):
        for found in conn.execute(query, {"fps": wanted[start : start + CHUNK]}):
            row = _row(found)
            out[row.fingerprint] = row
    return out


def load_in_states(
    conn: Connection, states: Sequence[AlertState], rules: Sequence[str] | None = None
) -> list[AlertRow]:
    """Return the alerts in ``states`` (optionally of ``rules`` only), oldest first."""
    query = select(ALERT).where(ALERT.c.state.in_([str(s) for s in states]))
    if rules is not None:
        query = query.where(ALERT.c.rule.in_(list(rules)))
    return [_row(found) for found in conn.execute(query.order_by(ALERT.c.id))]


def load_escalated(conn: Connection, states: Sequence[AlertState]) -> list[AlertRow]:
    """Return alerts in ``states`` that reached an escalation level."""
    query = select(ALERT).where(
        ALERT.c.state.in_([str(s) for s in states]), ALERT.c.escalation_level > 0
    )
    return [_row(found) for found in conn.execute(query.order_by(ALERT.c.id))]


def load_live(conn: Connection) -> list[AlertRow]:
    """Return alerts that time can change: pending, firing, or flapping."""
    live = ALERT.c.state.in_([AlertState.PENDING, AlertState.FIRING]) | ALERT.c.is_flapping
    return [_row(found) for found in conn.execute(select(ALERT).where(live).order_by(ALERT.c.id))]


def live_fingerprints(conn: Connection) -> set[str]:
    """Fingerprints of pending, firing or flapping alerts (usually few)."""
    live = ALERT.c.state.in_([AlertState.PENDING, AlertState.FIRING]) | ALERT.c.is_flapping
    return set(conn.execute(select(ALERT.c.fingerprint).where(live)).scalars())


def any_group_due(conn: Connection, now: float) -> bool:
    """True when some group's next flush is due."""
    found = conn.execute(select(GROUP.c.id).where(GROUP.c.next_flush_at <= to_dt(now)).limit(1))
    return found.first() is not None


def insert_alert(conn: Connection, row: AlertRow, now: float) -> None:
    """Store a new alert and set its id (the caller handles a fingerprint race)."""
    values = row.columns() | {
        "fingerprint": row.fingerprint,
        "rule": row.rule,
        "labels": canonical_labels(row.labels),
        "version": 0,
        "updated_at": to_dt(now),
    }
    row.id = conn.execute(insert(ALERT).values(**values).returning(ALERT.c.id)).scalar_one()


def update_alert(conn: Connection, row: AlertRow, now: float) -> bool:
    """Compare-and-set: write ``row`` only if nobody changed it since it was read."""
    done = conn.execute(
        update(ALERT)
        .where(ALERT.c.id == row.id, ALERT.c.version == row.version)
        .values(**row.columns(), version=row.version + 1, updated_at=to_dt(now))
    )
    if done.rowcount == 1:
        row.version += 1
        return True
    return False


def record_transitions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append state changes (alert_id, fingerprint, rule, from_state, to_state, at, value)."""
    if rows:
        conn.execute(insert(TRANSITION), rows)


def find_alert(conn: Connection, ref: str) -> AlertRow | None:
    """Return the alert with id or fingerprint ``ref``, or None."""
    where = ALERT.c.fingerprint == ref
    if ref.isascii() and ref.isdigit() and int(ref) < 2**63:  # a row id either store can hold
        where = where | (ALERT.c.id == int(ref))
    found = conn.execute(select(ALERT).where(where)).first()
    return None if found is None else _row(found)


def acknowledge(
    conn: Connection,
    ref: str,
    by: str,
    comment: str,
    now: float,
    *,
    expires_at: float | None = None,
) -> AlertRow | None:
    """Acknowledge alert ``ref`` (id or fingerprint) until ``expires_at`` (None: until it
    resolves); record it in the alert's events; return it, or None if unknown."""
    row = find_alert(conn, ref)
    if row is None:
        return None
    row.ack_by, row.ack_at, row.ack_comment, row.ack_expires_at = by, now, comment, expires_at
    _force_update(conn, row, now, ACK_COLUMNS)
    detail = comment if expires_at is None else f"{comment} (until {_iso(expires_at)})".strip()
    record_event(conn, row, AlertEventKind.ACKNOWLEDGED, now, by, detail)
    return row


def unacknowledge(conn: Connection, ref: str, by: str, now: float) -> AlertRow | None:
    """Give alert ``ref`` back: repeats and escalation resume from now; None if unknown."""
    row = find_alert(conn, ref)
    if row is None:
        return None
    was_acked = row.ack_by is not None
    row.clear_ack()
    row.escalation_since = now
    _force_update(conn, row, now, (*ACK_COLUMNS, "escalation_since"))
    if was_acked:
        record_event(conn, row, AlertEventKind.UNACKNOWLEDGED, now, by, "given back")
    return row


def restart_escalation(conn: Connection, fp: str, now: float) -> None:
    """Start alert ``fp``'s escalation clock at ``now`` (its page was held until now)."""
    row = load_by_fingerprint(conn, [fp]).get(fp)
    if row is not None:
        row.escalation_since = now
        _force_update(conn, row, now, ("escalation_since",))


def _force_update(conn: Connection, row: AlertRow, now: float, names: Sequence[str]) -> None:
    """Write a person's change to columns ``names`` whatever the version, leaving the
    engine's columns alone (the version bump makes engines re-read)."""
    values = {name: value for name, value in row.columns().items() if name in names}
    conn.execute(
        update(ALERT)
        .where(ALERT.c.id == row.id)
        .values(**values, version=ALERT.c.version + 1, updated_at=to_dt(now))
    )
    row.version += 1


def record_event(
    conn: Connection, row: AlertRow, kind: AlertEventKind, at: float, actor: str, detail: str
) -> None:
    """Append an acknowledgement event of ``row``."""
    values = {"alert_id": row.id, "fingerprint": row.fingerprint, "kind": str(kind)}
    conn.execute(insert(EVENT).values(**values, at=to_dt(at), actor=actor, detail=detail))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# -- groups ---------------------------------------------------------------------------


@dataclass
class GroupRow:
    """A stored notification group."""

    id: int
    route: int
    key: dict[str, str]
    state: GroupState
    version: int


def load_groups(conn: Connection) -> dict[tuple[int, str], GroupRow]:
    """Return every group by (route, canonical key)."""
    out = {}
    for found in conn.execute(select(GROUP)):
        m = found._mapping
        state = GroupState(
            to_ts(m["next_flush_at"]) or 0.0,
            to_ts(m["last_notified_at"]),
            frozenset(json.loads(m["notified"])),
            m["repeats"],
        )
        out[(m["route"], m["group_key"])] = GroupRow(
            m["id"], m["route"], json.loads(m["group_key"]), state, m["version"]
        )
    return out


def insert_group(conn: Connection, route: int, key: str, next_flush_at: float) -> GroupRow:
    """Create a group that flushes first at ``next_flush_at``."""
    values = {"next_flush_at": to_dt(next_flush_at), "notified": "[]", "repeats": 0, "version": 0}
    group_id = conn.execute(
        insert(GROUP).values(route=route, group_key=key, **values).returning(GROUP.c.id)
    ).scalar_one()
    return GroupRow(group_id, route, json.loads(key), GroupState(next_flush_at), 0)


def update_group(conn: Connection, group: GroupRow, state: GroupState) -> bool:
    """Compare-and-set a group's timers and what it told."""
    done = conn.execute(
        update(GROUP)
        .where(GROUP.c.id == group.id, GROUP.c.version == group.version)
        .values(
            next_flush_at=to_dt(state.next_flush_at),
            last_notified_at=to_dt(state.last_notified_at),
            notified=json.dumps(sorted(state.notified)),
            repeats=state.repeats,
            version=group.version + 1,
        )
    )
    return done.rowcount == 1


def restart_repeats(conn: Connection, fingerprint: str, now: float) -> bool:
    """Count a notice of ``fingerprint`` sent now as the last notification of the groups
    that told it; False when no group told it."""
    done = conn.execute(
        update(GROUP)
        .where(GROUP.c.notified.like(f'%"{fingerprint}"%'))
        .values(last_notified_at=to_dt(now), repeats=0, version=GROUP.c.version + 1)
    )
    return done.rowcount > 0


def delete_group(conn: Connection, group: GroupRow) -> bool:
    """Forget an empty group (a new incident waits group_wait again); False when it
    changed meanwhile (compare-and-set)."""
    done = conn.execute(
        delete(GROUP).where(GROUP.c.id == group.id, GROUP.c.version == group.version)
    )
    return done.rowcount == 1


# -- silences -------------------------------------------------------------------------


def add_silence(
    conn: Connection, matchers: str, starts: float, ends: float, by: str, comment: str
) -> int:
    """Store a silence (matchers are checked first) and return its id."""
    parse_selector(matchers)
    values = {
        "matchers": matchers,
        "starts_at": to_dt(starts),
        "ends_at": to_dt(ends),
        "created_by": by,
        "comment": comment,
        "created_at": to_dt(starts),
    }
    return conn.execute(insert(SILENCE).values(**values).returning(SILENCE.c.id)).scalar_one()


def expire_silence(conn: Connection, silence_id: int, now: float, *, by: str) -> bool:
    """End a silence now, recording ``by``; False if it does not exist or already ended."""
    done = conn.execute(
        update(SILENCE)
        .where(SILENCE.c.id == silence_id, SILENCE.c.ends_at > to_dt(now))
        .values(ends_at=to_dt(now), expired_by=by)
    )
    return done.rowcount == 1


def list_silences(conn: Connection, now: float, *, include_expired: bool = False) -> list[dict]:
    """Return silences as dicts (active and future ones unless ``include_expired``)."""
    query = select(SILENCE).order_by(SILENCE.c.id)
    if not include_expired:
        query = query.where(SILENCE.c.ends_at > to_dt(now))
    return [dict(found._mapping) for found in conn.execute(query)]


def active_silences(conn: Connection, now: float) -> list[SilenceSpec]:
    """Return silences that have not ended, ready to match."""
    return [
        SilenceSpec(
            s["id"],
            parse_selector(s["matchers"]),
            to_ts(s["starts_at"]) or 0.0,
            to_ts(s["ends_at"]) or 0.0,
        )
        for s in list_silences(conn, now)
    ]
