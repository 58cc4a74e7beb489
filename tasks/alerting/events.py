"""Prefect events for alerts, so automations can react: vigil.alert.firing / .resolved."""

import logging
from collections.abc import Mapping

log = logging.getLogger(__name__)


def alert_resource(fingerprint: str, labels: Mapping[str, str]) -> dict[str, str]:
    """The event's resource: the alert's id and name, and every label as a field.

    >>> alert_resource("ab12", {"alertname": "Cpu", "target": "web-1"})["target"]
    'web-1'
    """
    return {
        **{k: str(v) for k, v in labels.items()},
        "prefect.resource.id": f"vigil.alert.{fingerprint}",
        "prefect.resource.name": labels.get("alertname", fingerprint),
    }


def emit_alert_event(kind: str, fingerprint: str, labels: Mapping[str, str], payload: dict):
    """Emit ``vigil.alert.<kind>`` when a Prefect API is configured (else do nothing).

    Without ``PREFECT_API_URL``, Prefect would start an ephemeral server to receive the
    event, which costs seconds on the alert path; Vigil skips the event instead.
    """
    from prefect.events import emit_event
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return None
    try:
        return emit_event(
            f"vigil.alert.{kind}", resource=alert_resource(fingerprint, labels), payload=payload
        )
    except Exception:  # events are a convenience; never let them break alerting
        log.exception("cannot emit vigil.alert.%s for %s", kind, fingerprint)
        return None
