"""``/api/v1/alerts``, ``/api/v1/silences``, ``/api/v1/maintenance-windows``.

Writes validate the operator's input with ``tasks.core.alerting.operator_input`` (as the CLI
and the dashboard do) and are recorded with the token's identity (``user/token``): in the
alert's timeline (acknowledge, give back, dismiss) or as the silence's author.
"""

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from models.config.dashboard import Role
from models.errors import MatcherError
from models.vocabulary.durations import parse_duration
from models.vocabulary.selectors import parse_selector
from models.vocabulary.severity import severity_rank
from tasks.alerting import store as repo
from tasks.alerting.dismissal_store import dismiss as store_dismissal
from tasks.alerting.store import AlertRow
from tasks.alerting.timeline import read_timeline
from tasks.api.auth import require
from tasks.api.context import MAX_ID, ApiContext, context, iso, json_rows
from tasks.api.errors import ApiError, not_found, refused_input
from tasks.core.alerting import operator_input
from tasks.core.alerting.lifecycle import AlertState
from tasks.core.api.tokens import Identity
from tasks.queries import alerting as alert_queries

router = APIRouter(prefix="/api/v1", tags=["alerts"])
VIEWER, OPERATOR = Depends(require(Role.VIEWER)), Depends(require(Role.OPERATOR))
ACTIVE = (AlertState.PENDING, AlertState.FIRING)
REF = Path(min_length=1, max_length=64, description="The alert's id or fingerprint.")


class AckRequest(BaseModel):
    """Acknowledge: a comment (required) and optionally how long, e.g. 2h."""

    comment: str = Field(description="Why, or what you are doing about it.")
    expires: str | None = Field(None, description="Hold it this long (default: until resolved).")


class DismissRequest(BaseModel):
    """Dismiss as a false positive: the rule stays quiet on the series for ``for``."""

    comment: str = ""
    lasting: str = Field("1d", alias="for", description="How long, e.g. 1d.")


class SilenceRequest(BaseModel):
    """Silence alerts whose labels match, from now for ``for``."""

    matchers: str = Field(description='Label matchers, e.g. {target="db-1"}.')
    lasting: str = Field("2h", alias="for", description="How long, e.g. 30m, 2h.")
    comment: str = ""


@router.get("/alerts", dependencies=[VIEWER])
def list_alerts(
    state: list[str] = Query([], description="active, pending, firing, resolved... (any)."),
    severity: list[str] = Query([], description="Keep these severity labels only."),
    match: str | None = Query(None, description='Label matchers, e.g. {target="db-1"}.'),
    limit: int = Query(500, ge=1, le=5000),
    ctx: ApiContext = Depends(context),
) -> JSONResponse:
    """Alerts, most severe then newest first, filtered by state, severity and labels."""
    states = [AlertState(s) for asked in state for s in _states(asked)] or list(AlertState)
    selector = parse_selector(match) if match else None
    with ctx.engine.connect() as conn:
        rows = repo.load_in_states(conn, states)
    kept = [
        row
        for row in rows
        if (not severity or row.labels.get("severity") in severity)
        and (selector is None or selector.matches(row.rule, row.labels))
    ]
    kept.sort(key=_most_severe_then_newest)
    return JSONResponse([alert_json(row) for row in kept[:limit]])


@router.get("/alerts/{ref}", dependencies=[VIEWER])
def one_alert(ref: str = REF, ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    """One alert by id or fingerprint."""
    with ctx.engine.connect() as conn:
        row = repo.find_alert(conn, ref)
    if row is None:
        raise not_found("alert", ref, "ref")
    return alert_json(row)


@router.get("/alerts/{ref}/timeline", dependencies=[VIEWER])
def timeline(ref: str = REF, ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    """The alert and its history, oldest first: state changes, notifications, acks, recoveries."""
    with ctx.engine.connect() as conn:
        found = read_timeline(conn, ref)
    if found is None:
        raise not_found("alert", ref, "ref")
    row, events = found
    return {
        "alert": alert_json(row),
        "events": [
            {"at": iso(e.at), "kind": e.kind, "summary": e.summary, "actor": e.actor}
            for e in events
        ],
    }


@router.post("/alerts/{ref}/ack")
def ack(
    asked: AckRequest, ref: str = REF, who: Identity = OPERATOR, ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Acknowledge: repeats and escalation stop until it resolves (or ``expires`` passes)."""
    now = ctx.clock()
    lasting = None if asked.expires is None else _duration(asked.expires, "expires")
    try:
        ack_input = operator_input.acknowledgement(asked.comment, lasting=lasting, now=now)
    except ValueError as exc:
        raise refused_input(exc, "comment" if lasting is None else "expires") from None
    until = None if ack_input.expires_at is None else ack_input.expires_at.timestamp()
    with ctx.engine.begin() as conn:
        row = repo.acknowledge(
            conn, ref, who.actor, ack_input.comment, now.timestamp(), expires_at=until
        )
    if row is None:
        raise not_found("alert", ref, "ref")
    return alert_json(row)


@router.post("/alerts/{ref}/unack")
def unack(
    ref: str = REF, who: Identity = OPERATOR, ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Give the alert back: repeats and escalation resume from now."""
    with ctx.engine.begin() as conn:
        row = repo.unacknowledge(conn, ref, who.actor, ctx.clock().timestamp())
    if row is None:
        raise not_found("alert", ref, "ref")
    return alert_json(row)


@router.post("/alerts/{ref}/dismiss")
def dismiss(
    asked: DismissRequest,
    ref: str = REF,
    who: Identity = OPERATOR,
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Dismiss as a false positive: its rule stays quiet on the series for ``for``."""
    now = ctx.clock()
    lasting = _duration(asked.lasting, "for")
    try:
        dismissal = operator_input.dismissal(asked.comment, lasting=lasting, now=now)
    except ValueError as exc:
        raise refused_input(exc, "for") from None
    with ctx.engine.begin() as conn:
        done = store_dismissal(
            conn,
            ref,
            by=who.actor,
            comment=dismissal.comment,
            until=dismissal.until.timestamp(),
            now=now.timestamp(),
        )
    if done is None:
        raise not_found("alert", ref, "ref")
    return {
        "id": done.id,
        "rule": done.rule,
        "labels": done.labels,
        "until": iso(done.until),
        "by": done.by,
    }


@router.get("/silences", dependencies=[VIEWER])
def silences(include_expired: bool = Query(False), ctx: ApiContext = Depends(context)) -> Response:
    """Silences not ended yet (or all, with include_expired), newest first."""
    frame = alert_queries.silences(ctx.engine, now=ctx.clock(), include_expired=include_expired)
    return json_rows(frame)


@router.post("/silences", status_code=201)
def add_silence(
    asked: SilenceRequest, who: Identity = OPERATOR, ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Silence matching alerts from now for ``for``; it expires by itself."""
    now = ctx.clock()
    lasting = _duration(asked.lasting, "for")
    try:
        accepted = operator_input.silence(
            asked.matchers, lasting=lasting, comment=asked.comment, now=now
        )
    except MatcherError as exc:  # the matchers do not parse (the message says where)
        raise refused_input(exc, "matchers") from None
    except ValueError as exc:
        field = "matchers" if "matcher" in str(exc) else "for"
        raise refused_input(exc, field) from None
    start, end = accepted.starts_at.timestamp(), accepted.ends_at.timestamp()
    with ctx.engine.begin() as conn:
        silence_id = repo.add_silence(
            conn, accepted.matchers, start, end, who.actor, accepted.comment
        )
    return {
        "id": silence_id,
        "matchers": accepted.matchers,
        "starts_at": iso(start),
        "ends_at": iso(end),
        "created_by": who.actor,
        "comment": accepted.comment,
    }


@router.delete("/silences/{silence_id}")
def expire_silence(
    silence_id: int = Path(ge=1, le=MAX_ID),
    who: Identity = OPERATOR,
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """End a silence now."""
    with ctx.engine.begin() as conn:
        is_done = repo.expire_silence(conn, silence_id, ctx.clock().timestamp(), by=who.actor)
    if not is_done:
        raise not_found("active silence", silence_id, "silence_id")
    return {"id": silence_id, "expired_by": who.actor}


@router.get("/maintenance-windows", dependencies=[VIEWER])
def maintenance_windows(ctx: ApiContext = Depends(context)) -> list[dict[str, Any]]:
    """Each configured window: matchers, schedule, and whether it is active now or next."""
    from tasks.alerting.plan import maintenance_spec  # the alerting plan: import when asked

    now = ctx.clock().timestamp()
    out = []
    for window in ctx.config.maintenance_windows:
        span = maintenance_spec(window).next_span(now)
        out.append(
            {
                "name": window.name,
                "match": window.match,
                "schedule": window.schedule,
                "duration_s": window.duration.total_seconds() if window.duration else None,
                "timezone": window.timezone,
                "is_active": span is not None and span[0] <= now,
                "starts_at": iso(span[0]) if span else None,
                "ends_at": iso(span[1]) if span else None,
            }
        )
    return out


def alert_json(row: AlertRow) -> dict[str, Any]:
    """An alert row as the API shows it."""
    lc = row.lifecycle
    return {
        "id": row.id,
        "fingerprint": row.fingerprint,
        "rule": row.rule,
        "state": str(lc.state),
        "labels": row.labels,
        "annotations": row.annotations,
        "value": row.value,
        "active_since": iso(lc.active_since),
        "fired_at": iso(lc.fired_at),
        "resolved_at": iso(lc.resolved_at),
        "is_flapping": row.is_flapping,
        "escalation_level": row.escalation_level,
        "ack_by": row.ack_by,
        "ack_at": iso(row.ack_at),
        "ack_comment": row.ack_comment,
        "ack_expires_at": iso(row.ack_expires_at),
    }


def _most_severe_then_newest(row: AlertRow) -> tuple[int, float, int]:
    since = row.lifecycle.active_since or 0.0
    return (-severity_rank(row.labels.get("severity", "")), -since, -(row.id or 0))


def _states(asked: str) -> list[str]:
    if asked == "active":
        return [str(s) for s in ACTIVE]
    try:
        return [str(AlertState(asked))]
    except ValueError:
        known = ", ".join(["active", *(str(s) for s in AlertState)])
        raise ApiError(422, f"state {asked!r} is not one of {known}", "state") from None


def _duration(text: str, field: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise refused_input(exc, field) from None
