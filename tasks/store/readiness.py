"""Readiness: is the store reachable, the Prefect API answering, the outbox moving? With reasons."""

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, func, select, text

from models.alerting import DeliveryStatus, Notification

NOTIFICATION = Notification.__table__  # type: ignore[attr-defined]
OUTBOX_STUCK_AFTER = timedelta(minutes=15)  # a notice this overdue means delivery is not moving
PROBE_TIMEOUT_S = 3.0

Probe = Callable[[], str | None]  # None: fine; otherwise what is wrong


def store_problem(engine: Engine) -> str | None:
    """Say why the store cannot be read, or None."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; the reason is the answer
        return f"store unreachable: {' '.join(str(exc).split())[:200]}"
    return None


def prefect_problem(api_url: str | None, auth_string: str | None = None) -> str | None:
    """Say why the Prefect API at ``api_url`` does not answer its health check, or None."""
    if not api_url:
        return "no Prefect API configured (PREFECT_API_URL is unset)"
    headers = {}
    if auth_string:
        headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
    try:
        answer = httpx.get(
            f"{api_url.rstrip('/')}/health", headers=headers, timeout=PROBE_TIMEOUT_S
        )
    except httpx.HTTPError as exc:
        return f"Prefect API unreachable at {api_url}: {exc}"
    if answer.status_code != 200:
        return f"Prefect API at {api_url} answered {answer.status_code}"
    return None


def outbox_problem(engine: Engine, now: datetime) -> str | None:
    """Say how many notices are overdue by more than OUTBOX_STUCK_AFTER, or None."""
    n = NOTIFICATION.c
    overdue = select(func.count(), func.min(n.next_attempt_at)).where(
        n.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
        n.next_attempt_at < now - OUTBOX_STUCK_AFTER,
    )
    try:
        with engine.connect() as conn:
            count, oldest = conn.execute(overdue).one()
    except Exception:  # the store probe says why
        return None
    if not count:
        return None
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    minutes = (now - oldest).total_seconds() / 60
    return f"outbox stuck: {count} notices overdue, the oldest by {minutes:.0f} min"


def readiness(probes: dict[str, Probe]) -> dict[str, object]:
    """Run every probe; ``ready`` only when none reports a problem."""
    checks = {name: probe() or "ok" for name, probe in probes.items()}
    is_ready = all(verdict == "ok" for verdict in checks.values())
    return {"status": "ready" if is_ready else "not ready", "checks": checks}


def vigil_probes(engine: Engine, api_url: str | None, auth_string: str | None) -> dict[str, Probe]:
    """The probes of a Vigil process: store, Prefect API, outbox."""
    return {
        "store": lambda: store_problem(engine),
        "prefect": lambda: prefect_problem(api_url, auth_string),
        "outbox": lambda: outbox_problem(engine, datetime.now(UTC)),
    }
