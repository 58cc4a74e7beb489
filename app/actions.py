"""The changes the dashboard makes, each checked against the user's role first.

Writes go through the owning capability's own functions (alerting's repository, recovery's
approval), so the dashboard follows the same rules as the CLI.
"""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine

from app.auth import Action, User
from models.access import ApprovalPath
from models.recovery import AuditEvent
from tasks.alerting.store import acknowledge, add_silence, unacknowledge
from tasks.alerting.store import expire_silence as expire
from tasks.core.alerting import operator_input
from tasks.queries import prefect_client
from tasks.recovery.approval import Approval
from tasks.recovery.approval_codes import issue_code
from tasks.recovery.store import audit, run_by_flow_run


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
        return expire(conn, silence_id, now.timestamp(), by=user.name)


def decide_recovery(
    engine: Engine, api_url: str, user: User, flow_run_id: str, *, approved: bool, reason: str
) -> None:
    """Answer a recovery run paused for approval as the logged-in ``user``.

    The dashboard proves who answers the way the Prefect UI form does: with a one-time code,
    here issued to ``user`` and used at once. A user whose role may not decide is refused
    and the attempt is audited.

    Raises:
        NotAllowed: the user's role may not decide recoveries (audited).
        ValueError: no reason given, or Prefect refused the answer (the run is not paused).
        PrefectUnavailable: the Prefect API did not answer.
    """
    if not user.can(Action.DECIDE_RECOVERY):
        why = f"{user.name} ({user.role}) may not {Action.DECIDE_RECOVERY}"
        _audit_refusal(engine, flow_run_id, user, why)
        raise NotAllowed(why)
    if not reason.strip():
        raise ValueError("give a reason; it is kept in the audit log")
    now = datetime.now(UTC)
    code = issue_code(engine, user.name, flow_run_id, ApprovalPath.DASHBOARD, now=now)
    answer = Approval(approved=approved, reason=reason.strip(), approver=user.name, code=code)
    with prefect_client(api_url) as client:
        result = client.resume_flow_run(UUID(flow_run_id), run_input=answer.model_dump())
    if str(result.status.value).upper() != "ACCEPT":
        raise ValueError(f"Prefect did not accept the answer: {result.details}")


def approval_code(engine: Engine, user: User, flow_run_id: str, path: ApprovalPath) -> str:
    """Issue ``user`` a one-time code to answer ``flow_run_id`` in the Prefect UI or the CLI.

    Raises:
        NotAllowed: the user's role may not decide recoveries (audited).
    """
    if not user.can(Action.DECIDE_RECOVERY):
        why = f"{user.name} ({user.role}) may not get an approval code"
        _audit_refusal(engine, flow_run_id, user, why)
        raise NotAllowed(why)
    return issue_code(engine, user.name, flow_run_id, path, now=datetime.now(UTC))


def _audit_refusal(engine: Engine, flow_run_id: str, user: User, why: str) -> None:
    run = run_by_flow_run(engine, flow_run_id)
    procedure, target = (run.procedure, run.target) if run else ("?", "?")
    audit(
        engine,
        procedure,
        target,
        AuditEvent.APPROVAL_REFUSED,
        why,
        run_id=run.id if run else None,
        actor=user.name,
        path=ApprovalPath.DASHBOARD,
    )
