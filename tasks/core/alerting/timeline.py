"""One alert's history as one ordered list: state changes, notifications, people, recovery.

Each ``*_events`` function turns plain records of one source into events; ``merge`` orders
them by time, keeping the sources' order on ties (a state change before the notice it caused).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Record = Mapping[str, Any]
QUIET_STATES = ("inactive", "resolved")
APPROVALS = ("approval_requested", "approved", "rejected")
STEPS = ("step_succeeded", "step_failed", "rolled_back", "rollback_failed", "verified", "dry_run")


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened to an alert (``at`` in epoch seconds)."""

    at: float
    kind: str  # detected, state, notification, acknowledged, unacknowledged, ack_expired,
    #            recovery, approval, recovery_step, breaker
    summary: str
    actor: str = "vigil"


def transition_events(rows: Iterable[Record]) -> list[TimelineEvent]:
    """State changes; leaving a quiet state is a detection.

    >>> transition_events([{"at": 5.0, "from_state": "inactive", "to_state": "pending",
    ...                     "value": 0.97, "reason": ""}])[0].summary
    'inactive → pending (value 0.97)'
    """
    out = []
    for row in rows:
        kind = "detected" if row["from_state"] in QUIET_STATES else "state"
        summary = f"{row['from_state']} → {row['to_state']}"
        if row.get("value") is not None:
            summary += f" (value {row['value']:g})"
        if row.get("reason"):
            summary += f": {row['reason']}"
        out.append(TimelineEvent(row["at"], kind, summary))
    return out


def notification_events(rows: Iterable[Record]) -> list[TimelineEvent]:
    """Notifications, each with its delivery result.

    >>> notification_events([{"created_at": 1.0, "channel": "ops", "kind": "firing",
    ...     "status": "sent", "attempts": 1, "last_error": None}])[0].summary
    'firing to ops: sent after 1 attempt'
    """
    return [TimelineEvent(r["created_at"], "notification", _delivery(r)) for r in rows]


def _delivery(row: Record) -> str:
    head = f"{row['kind']} to {row['channel']}: {row['status']}"
    attempts = row.get("attempts") or 0
    if attempts:
        head += f" after {attempts} attempt{'s' if attempts > 1 else ''}"
    if row["status"] != "sent" and row.get("last_error"):
        head += f"; last error: {row['last_error']}"
    return head


def alert_events(rows: Iterable[Record]) -> list[TimelineEvent]:
    """Acknowledgements, their withdrawal and expiry."""
    return [
        TimelineEvent(r["at"], r["kind"], r.get("detail") or r["kind"], r.get("actor") or "vigil")
        for r in rows
    ]


def recovery_events(runs: Iterable[Record], audits: Sequence[Record]) -> list[TimelineEvent]:
    """Recovery runs started for the alert, with their decisions, approvals and steps.

    >>> recovery_events([{"id": 3, "procedure": "restart", "target": "api",
    ...     "requested_at": 1.0, "state": "succeeded"}],
    ...     [{"run_id": 3, "at": 2.0, "event": "approved", "actor": "ana", "detail": "ok"}])[1]
    TimelineEvent(at=2.0, kind='approval', summary='run 3 approved: ok', actor='ana')
    """
    out = []
    for run in runs:
        summary = f"run {run['id']} {run['procedure']} on {run['target']}: {run['state']}"
        out.append(TimelineEvent(run["requested_at"], "recovery", summary))
    for audit in audits:
        event = audit["event"]
        kind = (
            "approval" if event in APPROVALS else "recovery_step" if event in STEPS else "recovery"
        )
        summary = f"run {audit['run_id']} {event}"
        summary += f": {audit['detail']}" if audit.get("detail") else ""
        out.append(TimelineEvent(audit["at"], kind, summary, audit.get("actor") or "vigil"))
    return out


Watch = tuple[str, str | None, float, float]
"""A callee an alert used: breaker kind, name (None: any of that kind), from, until."""

BREAKER_WORDS = {
    "open": "opened after {failures} in a row; not called until its cool-down ends",
    "half_open": "half-open: one probe call after the cool-down",
    "closed": "closed: called as usual again",
}


def breaker_events(rows: Iterable[Record], watches: Sequence[Watch]) -> list[TimelineEvent]:
    """Breaker transitions of the callees the alert used (channels, its scrape target, its
    recovery steps) while it used them.

    >>> row = {"kind": "channel", "name": "sms", "state": "open", "failures": 3, "at": 5.0}
    >>> [e.summary for e in breaker_events([row], [("channel", "sms", 1.0, 9.0)])]
    ['channel sms: opened after 3 failures in a row; not called until its cool-down ends']
    >>> breaker_events([row], [("channel", "ops", 1.0, 9.0), ("scrape", None, 1.0, 9.0)])
    []
    """

    def is_watched(row: Record) -> bool:
        return any(
            row["kind"] == kind and name in (None, row["name"]) and since <= row["at"] <= until
            for kind, name, since, until in watches
        )

    return [
        TimelineEvent(
            r["at"],
            "breaker",
            f"{r['kind']} {r['name']}: "
            + BREAKER_WORDS[r["state"]].format(failures=_failures(r["failures"])),
        )
        for r in rows
        if is_watched(r)
    ]


def _failures(count: int) -> str:
    return f"{count} failure{'' if count == 1 else 's'}"


def merge(*sources: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    """Order every source's events by time; on ties, earlier sources first.

    >>> a, b = TimelineEvent(2, "state", "x"), TimelineEvent(2, "notification", "y")
    >>> [e.summary for e in merge([a], [TimelineEvent(1, "detected", "z"), b])]
    ['z', 'x', 'y']
    """
    return sorted((e for source in sources for e in source), key=lambda e: e.at)
