"""Vigil's webhook document, version 1: what a ``kind: webhook`` channel receives.

Vigil POSTs it as ``application/json`` (modelled on Alertmanager's webhook payload)::

    {
      "version": "1",                 # this schema's version; a breaking change bumps it
      "schema": "vigil.webhook",
      "kind": "firing",               # firing | repeat | resolved | escalation | ack_expired
      "status": "firing",             # firing while any alert in it fires, else resolved
      "title": "[FIRING:1] Cpu on web-1",
      "commonLabels": {"alertname": "Cpu", ...},   # labels every alert in it shares
      "externalURL": "http://vigil:8501",          # the dashboard
      "prefectRunURL": "http://prefect/runs/flow-run/…" | null,
      "alerts": [
        {
          "status": "firing" | "resolved",
          "fingerprint": "3f2a…",       # stable per label set
          "labels": {...}, "annotations": {...},
          "value": 0.97 | null,
          "startsAt": "2026-03-01T12:00:00Z" | null,
          "endsAt": "2026-03-01T12:05:00Z" | null,      # resolved alerts only
          "lastedSeconds": 300 | null,                  # resolved alerts only
          "fixedBy": "recovery run 42" | null,          # resolved alerts, when known
          "timelineURL": "http://vigil:8501/alerts?fingerprint=3f2a…"
        }
      ]
    }

Receivers should ignore keys they do not know: version 1 may gain keys, never lose them.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from tasks.core.alerting.messages import AlertView, Links, timeline_url

SCHEMA = "vigil.webhook"
VERSION = "1"


def document(
    kind: str, title: str, firing: Sequence[AlertView], resolved: Sequence[AlertView], links: Links
) -> dict:
    """The version-1 webhook document of one notice (see the module docstring)."""
    alerts = [_alert(a, "firing", links) for a in firing]
    alerts += [_alert(a, "resolved", links) for a in resolved]
    label_sets = [a.labels for a in [*firing, *resolved]]
    common = {
        k: v
        for k, v in (label_sets[0] if label_sets else {}).items()
        if all(s.get(k) == v for s in label_sets)
    }
    return {
        "version": VERSION,
        "schema": SCHEMA,
        "kind": kind,
        "status": "firing" if firing else "resolved",
        "title": title,
        "commonLabels": common,
        "externalURL": links.dashboard_url,
        "prefectRunURL": links.prefect_run_url,
        "alerts": alerts,
    }


def _alert(alert: AlertView, status: str, links: Links) -> dict:
    is_resolved = status == "resolved"
    lasted = (
        round(alert.resolved_at - alert.fired_at)
        if is_resolved and alert.fired_at is not None and alert.resolved_at is not None
        else None
    )
    return {
        "status": status,
        "fingerprint": alert.fingerprint,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "value": alert.value,
        "startsAt": _rfc3339(alert.fired_at),
        "endsAt": _rfc3339(alert.resolved_at) if is_resolved else None,
        "lastedSeconds": lasted,
        "fixedBy": alert.fixed_by if is_resolved else None,
        "timelineURL": timeline_url(links, alert.fingerprint),
    }


def _rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
