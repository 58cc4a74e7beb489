"""``/api/v1/models`` and ``/api/v1/forecasts``: model versions, newest forecasts of series."""

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from models.analytics import ModelStatus
from models.config.dashboard import Role
from models.vocabulary.selectors import parse_selector
from tasks.api.auth import require
from tasks.api.context import ApiContext, context, json_rows, records
from tasks.queries import analytics as analytics_queries

router = APIRouter(prefix="/api/v1", tags=["models"], dependencies=[Depends(require(Role.VIEWER))])
MAX_SERIES = 500  # forecasts of at most this many series per request


@router.get("/models")
def model_versions(
    status: list[ModelStatus] = Query([]), ctx: ApiContext = Depends(context)
) -> Response:
    """Model versions of every series, newest first, with their backtest scores
    (``backtest_mase`` below ``baseline_mase``: better than the seasonal naive model)."""
    statuses = [str(s) for s in status]
    return json_rows(analytics_queries.model_versions(ctx.engine, statuses=statuses))


@router.get("/forecasts")
def forecasts(
    match: str = Query(..., min_length=1, description="A series selector."),
    ctx: ApiContext = Depends(context),
) -> list[dict[str, Any]]:
    """The newest forecast of each matching series: ``[ts, yhat, lower, upper]`` points."""
    found = ctx.store.find_series(parse_selector(match))[:MAX_SERIES]
    frame = analytics_queries.forecast(ctx.engine, [s.id for s in found])
    out = []
    for s in found:
        part = frame[frame["series_id"] == s.id].drop(columns="series_id")
        points = records(part)
        if points:
            out.append({"id": s.id, "name": s.name, "labels": s.labels, "points": points})
    return out
