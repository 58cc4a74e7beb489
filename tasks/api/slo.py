"""``/api/v1/slos``, ``/uptime``, ``/incidents``, ``/operations``, ``/report``: the figures of
docs/slo.md, read by the same functions as ``vigil slo``, ``vigil report`` and the dashboard."""

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from models.config.dashboard import Role
from models.config.slo import Slo
from models.vocabulary.durations import parse_duration
from tasks.alerting.incidents import incident_alerts, one_incident, recent_incidents
from tasks.api.auth import require
from tasks.api.context import MAX_ID, ApiContext, context, iso
from tasks.api.errors import ApiError, not_found
from tasks.core.reports.render import FORMATS, render
from tasks.slo.operations import operations_report
from tasks.slo.read import slo_figures, slo_rows
from tasks.slo.report import build_report
from tasks.slo.uptime import SPANS, uptime_report

router = APIRouter(prefix="/api/v1", tags=["slo"], dependencies=[Depends(require(Role.VIEWER))])
LONGEST_SPAN = timedelta(days=400)  # a span beyond this is a typo, not a question
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"description": "a query parameter was refused (reason, field)"},
    404: {"description": "no such SLO or incident"},
}
SINCE = Query("7d", max_length=32, description="How far back from now: 24h, 7d, 30d …")


@router.get("/slos", responses=REFUSED)
def slos(ctx: ApiContext = Depends(context)) -> list[dict[str, Any]]:
    """Every SLO of vigil.yaml now: SLI, budget remaining, each burn-rate pair's rates."""
    slo_list = ctx.config.slos
    rows = slo_rows(ctx.config, ctx.store, ctx.clock().timestamp())
    return [_slo_json(slo, row) for slo, row in zip(slo_list, rows, strict=True)]


@router.get("/slos/{name}", responses=REFUSED)
def one_slo(
    name: str = Path(max_length=255),
    points: int = Query(120, ge=2, le=1000, description="Burn-down points over the window."),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """One SLO now, with its budget burn-down: ``[at, budget remaining]`` over its window."""
    slo = next((s for s in ctx.config.slos if s.name == name), None)
    if slo is None:
        raise not_found("SLO", repr(name), "name")
    row, burn_down = slo_figures(ctx.store, slo, ctx.clock().timestamp(), points)
    return {**_slo_json(slo, row), "burn_down": [[iso(at), left] for at, left in burn_down]}


@router.get("/uptime", responses=REFUSED)
def uptime(
    window: str = Query("24h", max_length=32, description="24h, 7d or 30d."),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Uptime share per check and per target over ``window``, with the outages within it."""
    if window not in SPANS:
        raise ApiError(400, f"window {window!r}: use one of {', '.join(SPANS)}", "window")
    found = uptime_report(ctx.engine, ctx.clock(), {window: SPANS[window]})
    return {
        "window": window,
        "checks": [_uptime_json(row, window) for row in found["checks"]],
        "targets": [_uptime_json(row, window) for row in found["targets"]],
    }


@router.get("/incidents", responses=REFUSED)
def incidents(
    since: str = SINCE,
    limit: int = Query(100, ge=1, le=1000),
    ctx: ApiContext = Depends(context),
) -> list[dict[str, Any]]:
    """Incidents open at any time since ``since``, newest first, with their member alerts."""
    until = ctx.clock()
    found = recent_incidents(ctx.engine, until - _span(since, "since"), until)[:limit]
    members = incident_alerts(ctx.engine, [i["id"] for i in found])
    return [_incident_json(i, members[i["id"]]) for i in found]


@router.get("/incidents/{incident_id}", responses=REFUSED)
def incident(
    incident_id: int = Path(ge=1, le=MAX_ID), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """One incident: likely cause, how it was found and ended, its member alerts."""
    found = one_incident(ctx.engine, incident_id)
    if found is None:
        raise not_found("incident", incident_id, "incident_id")
    return _incident_json(found, incident_alerts(ctx.engine, [incident_id])[incident_id])


@router.get("/operations", responses=REFUSED)
def operations(since: str = SINCE, ctx: ApiContext = Depends(context)) -> dict[str, Any]:
    """MTTA, MTTR (seconds), auto-fixed share, recovery success, alerts and dismissals per rule."""
    until = ctx.clock()
    start = until - _span(since, "since")
    figures = operations_report(ctx.engine, start, until)
    return {
        "since": iso(start),
        "until": iso(until),
        "alerts": figures.alerts,
        "mtta_s": figures.mtta_s,
        "mttr_s": figures.mttr_s,
        "auto_fixed_share": figures.auto_fixed_share,
        "alerts_per_rule": figures.alerts_per_rule,
        "recovery_success": {
            procedure: {"succeeded": won, "finished": done}
            for procedure, (won, done) in figures.recovery_success.items()
        },
        "dismissed_per_rule": figures.dismissed_per_rule,
    }


@router.get(
    "/report",
    responses={
        **REFUSED,
        200: {"content": {t.split(";")[0]: {} for t in CONTENT_TYPES.values()}},
    },
    response_class=Response,
)
async def report(
    since: str = SINCE,
    fmt: str = Query("html", alias="format", max_length=8, description="csv, html or pdf."),
    ctx: ApiContext = Depends(context),
) -> Response:
    """The report ``vigil report --since SINCE --format FORMAT`` writes, up to now."""
    if fmt not in FORMATS:
        raise ApiError(400, f"format {fmt!r}: use one of {', '.join(FORMATS)}", "format")
    until = ctx.clock()
    start = until - _span(since, "since")
    built = await run_in_threadpool(build_report, ctx.config, ctx.engine, start, until)
    content = await run_in_threadpool(render, built, fmt)
    name = f"vigil-report-{until:%Y%m%d}.{fmt}"
    headers = {"Content-Disposition": f'inline; filename="{name}"'}
    return Response(content, media_type=CONTENT_TYPES[fmt], headers=headers)


def _span(text: str, field: str) -> timedelta:
    """A positive duration up to ``LONGEST_SPAN``, or 400 naming ``field``."""
    try:
        span = parse_duration(text)
    except ValueError as exc:
        raise ApiError(400, f"{field} {text!r}: {exc}", field) from None
    if not timedelta(0) < span <= LONGEST_SPAN:
        raise ApiError(400, f"{field} {text!r}: give a span above 0 and at most 400d", field)
    return span


def _slo_json(slo: Slo, row: dict) -> dict[str, Any]:
    rates = row["burn_rates"]
    return {
        **{k: v for k, v in row.items() if k != "burn_rates"},
        "burn_rates": [
            {
                "alert": pair.name,
                "factor": pair.factor,
                "long_window_s": pair.long.total_seconds(),
                "short_window_s": pair.short.total_seconds(),
                "long_rate": rates[pair.name][0],
                "short_rate": rates[pair.name][1],
                "is_burning": pair.name in row["burning"],
            }
            for pair in slo.alerts
        ],
    }


def _uptime_json(row: dict, window: str) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("outages", window)}
    outages = [
        {"start": iso(start), "end": iso(end), "seconds": end - start}
        for start, end in row["outages"]
    ]
    return {**out, "uptime": row[window], "outages": outages}


def _incident_json(found: dict, members: list[dict]) -> dict[str, Any]:
    return {
        **found,
        "started_at": iso(found["started_at"]),
        "ended_at": iso(found["ended_at"]),
        "members": [
            {**m, "fired_at": iso(m["fired_at"]), "resolved_at": iso(m["resolved_at"])}
            for m in members
        ],
    }
