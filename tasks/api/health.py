"""``/api/v1/health``: the system's readiness and scores, targets, checks with their states."""

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from models.config.dashboard import Role
from tasks.api.auth import require
from tasks.api.context import ApiContext, context, json_rows, records
from tasks.queries import checks as check_queries
from tasks.store.readiness import readiness

CHECK_HISTORY = timedelta(hours=6)
router = APIRouter(
    prefix="/api/v1/health", tags=["health"], dependencies=[Depends(require(Role.VIEWER))]
)


@router.get("")
async def system(ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    """Readiness of the store, the Prefect API and the outbox, and the system's health score."""
    ready = await run_in_threadpool(readiness, dict(ctx.probes))
    scores = await run_in_threadpool(check_queries.newest_health, ctx.engine, "system")
    return {**ready, "scores": records(scores)}


@router.get("/targets")
def targets(ctx: ApiContext = Depends(context)) -> Response:
    """The newest health score (0-100) and level of each target."""
    return json_rows(check_queries.newest_health(ctx.engine, "target"))


@router.get("/checks")
def checks(ctx: ApiContext = Depends(context)) -> Response:
    """Each check's state (up/down, hard/soft, failures, since, flapping) and message."""
    from tasks.alerting.plan import flap_params  # the alerting plan: import when asked

    flap = flap_params(ctx.config.alerting.flapping)
    since = ctx.clock() - CHECK_HISTORY  # as the Health page judges flapping
    return json_rows(check_queries.check_states(ctx.engine, since=since, flap=flap))
