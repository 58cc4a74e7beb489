"""Notification texts: what, where, since when, the value, and links."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from models.vocabulary.templates import render

WHERE_LABELS = ("target", "instance", "host", "check")
PREFIXES = {"repeat": "[REPEAT] ", "escalation": "[ESCALATED] ", "ack_expired": "[ACK EXPIRED] "}


@dataclass(frozen=True)
class AlertView:
    """What a message needs to know about one alert."""

    fingerprint: str
    labels: Mapping[str, str]
    value: float | None
    fired_at: float | None
    resolved_at: float | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    fixed_by: str | None = None  # resolved: who or what fixed it, when known


@dataclass(frozen=True)
class Links:
    """Where a reader goes next: the dashboard and, when known, the Prefect run."""

    dashboard_url: str
    prefect_run_url: str | None = None


def compose(
    kind: str, firing: Sequence[AlertView], resolved: Sequence[AlertView], links: Links
) -> tuple[str, str]:
    """Return (title, body) of a notification; ``kind`` is firing, repeat, resolved,
    escalation or ack_expired.

    >>> view = AlertView("f1", {"alertname": "Cpu", "target": "web-1"}, 0.97, 0.0)
    >>> compose("firing", [view], [], Links("http://dash"))[0]
    '[FIRING:1] Cpu on web-1'
    """
    title = title_of(kind, firing, resolved)
    lines = [f"Firing ({len(firing)}):"] if firing else []
    lines += [_describe(a, links) for a in firing]
    if resolved:
        lines += [f"Resolved ({len(resolved)}):", *(_describe(a, links) for a in resolved)]
    lines.append(f"Dashboard: {links.dashboard_url.rstrip('/')}/alerts")
    if links.prefect_run_url:
        lines.append(f"Prefect run: {links.prefect_run_url}")
    return title, "\n".join(lines)


def title_of(kind: str, firing: Sequence[AlertView], resolved: Sequence[AlertView]) -> str:
    """``[FIRING:2] Cpu, Disk on web-1``: the status, the alert names and where."""
    alerts = [*firing, *resolved]
    names = sorted({a.labels.get("alertname", "?") for a in alerts})
    places = sorted({where(a.labels) for a in alerts})
    status = f"FIRING:{len(firing)}" if firing else "RESOLVED"
    place = places[0] if len(places) == 1 else f"{len(places)} targets"
    return f"{PREFIXES.get(kind, '')}[{status}] {', '.join(names)} on {place}"


def where(labels: Mapping[str, str]) -> str:
    """The first of target, instance, host, check an alert has: where it happens."""
    return next((labels[k] for k in WHERE_LABELS if labels.get(k)), "(no target)")


def _describe(alert: AlertView, links: Links) -> str:
    labels, notes = alert.labels, alert.annotations
    what = render(notes["summary"], labels, alert.value) if "summary" in notes else ""
    head = f"- {labels.get('alertname', '?')} on {where(labels)}"
    head += f": {what}" if what else ""
    parts = [head, f"  since {iso(alert.fired_at)}"]
    if alert.resolved_at is not None:
        parts[-1] += f", resolved {iso(alert.resolved_at)}"
    if alert.value is not None:
        parts.append(f"  value {alert.value:g}")
    if "description" in notes:
        parts.append(f"  {render(notes['description'], labels, alert.value)}")
    if "runbook_url" in notes:
        parts.append(f"  runbook: {render(notes['runbook_url'], labels, alert.value)}")
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    parts.append(f"  labels: {shown}")
    parts.append(f"  dashboard: {timeline_url(links, alert.fingerprint)}")
    return "\n".join(parts)


def timeline_url(links: Links, fingerprint: str) -> str:
    """The dashboard page with one alert's timeline."""
    return f"{links.dashboard_url.rstrip('/')}/alerts?fingerprint={quote(fingerprint)}"


def iso(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
