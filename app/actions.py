"""The changes the dashboard makes, each checked against the user's role first.

Writes go through the owning capability's own functions (alerting's repository, recovery's
approval), so the dashboard follows the same rules as the CLI.
"""

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine

from app.auth import Action, User
from app.queries import prefect_client
from tasks.alerting.store import acknowledge, add_silence, unacknowledge
from tasks.alerting.store import expire_silence as expire
from tasks.core.alerting import operator_input
from tasks.recovery.approval import Approval


class NotAllowed(PermissionError):
    """The user's role does not allow this change."""


def _require(user: User, action: Action) -> None:
    if not user.can(action):
        raise NotAllowed(f"{user.name} ({user.role}) may not {action}")


def acknowledge_alert(
    engine: Engine,
    user: User,
    alert_id: int,
    comment: str,
    *,
    now: datetime,
    expires: timedelta | None = None,
) -> None:
    """Acknowledge alert ``alert_id`` as ``user`` with a comment (required), for ``expires``
    (None: until it resolves)."""
    _require(user, Action.ACKNOWLEDGE)
    ack = operator_input.acknowledgement(comment, lasting=expires, now=now)
    until = None if ack.expires_at is None else ack.expires_at.timestamp()
    with engine.begin() as conn:
        row = acknowledge(
            conn, str(alert_id), user.name, ack.comment, now.timestamp(), expires_at=until
        )
        if row is None:
            raise LookupError(f"there is no alert {alert_id}")


def unacknowledge_alert(engine: Engine, user: User, alert_id: int, *, now: datetime) -> None:
    """Give alert ``alert_id`` back: its repeats and escalation resume."""
    _require(user, Action.ACKNOWLEDGE)
    with engine.begin() as conn:
        if unacknowledge(conn, str(alert_id), user.name, now.timestamp()) is None:
            raise LookupError(f"there is no alert {alert_id}")


def create_silence(
    engine: Engine, user: User, matchers: str, duration: timedelta, comment: str, *, now: datetime
) -> int:
    """Silence alerts matching ``matchers`` (``{target="db-1"}``) for ``duration``; return its id.

    Raises:
        MatcherError: the matchers do not parse (the message says where).
        OperatorInputError: no matcher, or a duration that is not positive.
    """
    _require(user, Action.SILENCE)
    asked = operator_input.silence(matchers, lasting=duration, comment=comment, now=now)
    start, end = asked.starts_at.timestamp(), asked.ends_at.timestamp()
    with engine.begin() as conn:
        return add_silence(conn, asked.matchers, start, end, user.name, asked.comment)


def expire_silence(engine: Engine, user: User, silence_id: int, *, now: datetime) -> bool:
    """End silence ``silence_id`` now; False when it had already ended."""
    _require(user, Action.SILENCE)
    with engine.begin() as conn:
        return expire(conn, silence_id, now.timestamp())


def decide_recovery(
    api_url: str, user: User, flow_run_id: str, *, approved: bool, reason: str
) -> None:
    """Answer a recovery run paused for approval, as its form in the Prefect UI would.

    Raises:
        ValueError: no reason given, or Prefect refused the answer (the run is not paused).
        PrefectUnavailable: the Prefect API did not answer.
    """
    _require(user, Action.DECIDE_RECOVERY)
    if not reason.strip():
        raise ValueError("give a reason; it is kept in the audit log")
    answer = Approval(approved=approved, reason=reason.strip(), approver=user.name)
    with prefect_client(api_url) as client:
        result = client.resume_flow_run(UUID(flow_run_id), run_input=answer.model_dump())
    if str(result.status.value).upper() != "ACCEPT":
        raise ValueError(f"Prefect did not accept the answer: {result.details}")
