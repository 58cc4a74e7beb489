"""``/api/v1/recoveries``: runs and their audit; start (dry or real), approve, reject.

A real start passes the same safety gate as an alert-triggered run (``admit``: rate limit,
cooldown, auto-disable), then the served ``recover`` deployment is launched for the admitted
run, exactly as the alerting engine launches it. A dry run renders every step and changes
nothing. The token's identity (``user/token``) is the audit's actor: it triggered the run,
or approved or rejected it (recorded by the run when it resumes).
"""

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from models.config.dashboard import Role
from models.config.recovery import Procedure, find_procedure
from models.errors import RecoveryError
from models.recovery import AuditEvent, RecoveryRun, RunState
from models.vocabulary.access import ApprovalPath
from tasks.api.auth import require
from tasks.api.context import MAX_ID, ApiContext, context, iso, json_rows, records
from tasks.api.errors import ApiError, not_found
from tasks.core.api.tokens import Identity
from tasks.core.recovery.run import dry_run_lines, plan_for
from tasks.queries import recovery as recovery_queries
from tasks.recovery.approval_codes import issue_code
from tasks.recovery.store import admit, audit, finish, record_dry_run, run_by_id
from tasks.recovery.trigger import is_allowed_target

router = APIRouter(prefix="/api/v1/recoveries", tags=["recoveries"])
VIEWER, OPERATOR = Depends(require(Role.VIEWER)), Depends(require(Role.OPERATOR))
RUN_ID = Path(ge=1, le=MAX_ID, description="The recovery run's number.")


class StartRequest(BaseModel):
    """Run a procedure from vigil.yaml on a target, or only render it (``dry_run``)."""

    procedure: str = Field(max_length=255)
    target: str = Field(max_length=255)
    labels: dict[str, str] = Field(default_factory=dict, description="For {labels.NAME}.")
    dry_run: bool = False


class DecisionRequest(BaseModel):
    """An answer to a run paused for approval; the reason is kept in the audit."""

    reason: str = Field(min_length=1)


@router.get("", dependencies=[VIEWER])
def list_runs(
    state: list[RunState] = Query([]),
    limit: int = Query(200, ge=1, le=5000),
    ctx: ApiContext = Depends(context),
) -> Response:
    """The newest recovery runs, optionally only in the given states."""
    states = [str(s) for s in state]
    return json_rows(recovery_queries.recovery_runs(ctx.engine, states=states, limit=limit))


@router.get("/{run_id}", dependencies=[VIEWER])
def one_run(run_id: int = RUN_ID, ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    """One run with its audit: every decision, approval and step, oldest first."""
    run = run_by_id(ctx.engine, run_id)
    if run is None:
        raise not_found("recovery run", run_id, "run_id")
    return {**run_json(run), "audit": records(recovery_queries.recovery_audit(ctx.engine, run_id))}


@router.post("", status_code=202)
def start(
    asked: StartRequest, who: Identity = OPERATOR, ctx: ApiContext = Depends(context)
) -> JSONResponse:
    """Start a procedure on a target: 202 with the admitted run, 409 when the gate refuses."""
    proc = _procedure(ctx, asked)
    try:
        the_plan = plan_for(ctx.config.targets, proc, asked.target, asked.labels)
    except RecoveryError as exc:  # e.g. a hostile label value; nothing was recorded
        raise ApiError(422, str(exc), "labels") from None
    trigger = f"api:{who.actor}"[:255]
    if asked.dry_run:
        dry = record_dry_run(ctx.engine, proc.name, asked.target, trigger=trigger)
        lines = dry_run_lines(the_plan)
        for event, detail in [
            (AuditEvent.TRIGGERED, trigger),
            *((AuditEvent.DRY_RUN, x) for x in lines),
        ]:
            audit(
                ctx.engine, proc.name, asked.target, event, detail, run_id=dry.id, actor=who.actor
            )
        return JSONResponse({**run_json(dry), "steps": lines}, 200)
    run, why = admit(
        ctx.engine,
        proc,
        asked.target,
        trigger=trigger,
        labels=asked.labels,
        now=ctx.clock(),
        actor=who.actor,
    )
    if run is None:
        raise ApiError(409, f"the safety gate refused: {why}", "procedure")
    flow_run_id = _launch(ctx, proc, run)
    return JSONResponse({**run_json(run), "flow_run_id": flow_run_id}, 202)


@router.post("/{run_id}/approve")
def approve(
    asked: DecisionRequest,
    run_id: int = RUN_ID,
    who: Identity = OPERATOR,
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Approve a run paused for approval (as the form in the Prefect UI would)."""
    return _decide(ctx, run_id, who, approved=True, reason=asked.reason)


@router.post("/{run_id}/reject")
def reject(
    asked: DecisionRequest,
    run_id: int = RUN_ID,
    who: Identity = OPERATOR,
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Reject a run paused for approval; it ends without changing anything."""
    return _decide(ctx, run_id, who, approved=False, reason=asked.reason)


def run_json(run: RecoveryRun) -> dict[str, Any]:
    """A run as the API shows it."""
    return {
        "id": run.id,
        "procedure": run.procedure,
        "target": run.target,
        "trigger": run.trigger,
        "state": str(run.state),
        "is_dry_run": run.is_dry_run,
        "flow_run_id": run.flow_run_id,
        "requested_at": iso(run.requested_at),
        "finished_at": iso(run.finished_at),
        "message": run.message,
    }


def _procedure(ctx: ApiContext, asked: StartRequest) -> Procedure:
    try:
        proc = find_procedure(ctx.config.procedures, asked.procedure)
    except KeyError as exc:
        raise ApiError(422, str(exc).strip("'\""), "procedure") from None
    if not is_allowed_target(proc, asked.target):
        allowed = ", ".join(proc.targets)
        raise ApiError(422, f"{proc.name} may act on {allowed} only", "target")
    return proc


def _launch(ctx: ApiContext, proc: Procedure, run: RecoveryRun) -> str | None:
    """Launch the admitted run (the flow records its flow run id when it starts); return
    that id. If Prefect cannot take it, end the run and answer 503."""
    assert run.id is not None
    try:
        flow_run = ctx.launch(run)
    except Exception as exc:  # any failure to launch leaves an admitted run that never runs
        why = f"could not start the recover flow: {' '.join(str(exc).split())[:300]}"
        finish(ctx.engine, proc, run.id, RunState.SKIPPED, why, now=ctx.clock())
        raise ApiError(503, why, None, {"Retry-After": "10"}) from None
    found = getattr(flow_run, "id", None)
    return None if found is None else str(found)


def _decide(
    ctx: ApiContext, run_id: int, who: Identity, *, approved: bool, reason: str
) -> dict[str, Any]:
    run = run_by_id(ctx.engine, run_id)
    if run is None:
        raise not_found("recovery run", run_id, "run_id")
    if run.state != RunState.AWAITING_APPROVAL or run.flow_run_id is None:
        raise ApiError(409, f"run {run_id} is {run.state}, not awaiting approval", "run_id")
    # Proven as the dashboard proves it: a one-time code issued to the token's user, used at once.
    code = issue_code(ctx.engine, who.user, run.flow_run_id, ApprovalPath.API, now=ctx.clock())
    try:
        ctx.answer(
            run.flow_run_id, approved=approved, reason=reason.strip(), approver=who.user, code=code
        )
    except (RuntimeError, ValueError) as exc:
        raise ApiError(409, f"Prefect did not take the answer: {exc}", "run_id") from None
    except Exception as exc:  # the Prefect API did not answer
        raise ApiError(503, f"the Prefect API did not answer: {exc}", None) from None
    return {
        "id": run_id,
        "decision": "approved" if approved else "rejected",
        "by": who.actor,
        "reason": reason.strip(),
    }
