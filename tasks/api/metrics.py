"""``/api/v1/metrics``: series by selector, their labels, and range queries (raw or rollup)."""

import math
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from models.config.dashboard import Role
from models.vocabulary.labels import parse_canonical
from models.vocabulary.resolution import Resolution, choose_resolution
from models.vocabulary.selectors import parse_selector
from tasks.api.auth import require
from tasks.api.context import ApiContext, context
from tasks.api.errors import ApiError
from tasks.queries import metrics as metric_queries

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(
    prefix="/api/v1/metrics", tags=["metrics"], dependencies=[Depends(require(Role.VIEWER))]
)
MATCH = Query(..., description='A series selector, e.g. cpu_percent{host="db-1"}.', min_length=1)


class Step(StrEnum):
    """The resolution asked for; ``auto`` chooses as the store's ``query_range`` does."""

    AUTO = "auto"
    RAW = "raw"
    MINUTE = "1m"
    HOUR = "1h"


@router.get("/names")
def names(ctx: ApiContext = Depends(context)) -> list[str]:
    """Every stored metric name, sorted."""
    return metric_queries.metric_names(ctx.engine)


@router.get("/series")
def series(match: str = MATCH, ctx: ApiContext = Depends(context)) -> list[dict[str, Any]]:
    """The series the selector matches: id, name, labels, kind, unit."""
    found = ctx.store.find_series(parse_selector(match))
    return [
        {"id": s.id, "name": s.name, "labels": s.labels, "kind": str(s.kind), "unit": s.unit}
        for s in found
    ]


@router.get("/labels/{name}")
def labels(name: str, ctx: ApiContext = Depends(context)) -> dict[str, list[str]]:
    """Each label of the series called ``name``, with its values."""
    return metric_queries.label_values(ctx.engine, name)


@router.get("/query_range")
def query_range(
    match: str = MATCH,
    start: datetime | None = Query(None, description="ISO 8601 with zone (default: end - 1h)."),
    end: datetime | None = Query(None, description="ISO 8601 with zone (default: now)."),
    resolution: Step = Query(Step.AUTO),
    ctx: ApiContext = Depends(context),
) -> JSONResponse:
    """Points of the matching series between start and end, one list per series.

    Raw points are ``[ts_ms, value]``; rollup points ``[ts_ms, avg, min, max, count, last]``
    with ``ts_ms`` at the bucket start.
    """
    selector = parse_selector(match)
    end = _aware(end, "end") if end is not None else ctx.clock()
    start = _aware(start, "start") if start is not None else end - timedelta(hours=1)
    if start > end:
        raise ApiError(422, "start is after end", "start")
    chosen = _resolution(resolution, start, end, ctx)
    frame = ctx.store.query_range(selector, start, end, chosen)
    return JSONResponse({"resolution": str(chosen), "series": _grouped(frame)})


def _aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise ApiError(422, f"{field} needs a zone, e.g. 2026-03-01T12:00:00Z", field)
    return moment


def _resolution(asked: Step, start: datetime, end: datetime, ctx: ApiContext) -> Resolution:
    if asked is not Step.AUTO:
        return Resolution(asked.value)
    store = ctx.store
    return choose_resolution(
        start, end, now=ctx.clock(), raw_keep=store.raw_keep, minute_keep=store.minute_keep
    )


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: those points carry null."""
    return value if math.isfinite(value) else None


def _grouped(frame: "pd.DataFrame") -> list[dict[str, Any]]:
    columns = ["value", "min", "max", "count", "last"] if "min" in frame.columns else ["value"]
    out = []
    for (series_id, name, labels), part in frame.groupby(
        ["series_id", "name", "labels"], sort=False
    ):
        ts_ms = (part["ts"].astype("int64") // 1_000_000).tolist()
        values = zip(*(map(_finite, part[c].tolist()) for c in columns), strict=True)
        points = [[t, *v] for t, v in zip(ts_ms, values, strict=True)]
        labels_dict = parse_canonical(labels)
        out.append({"id": int(series_id), "name": name, "labels": labels_dict, "points": points})
    return out
