"""The Prometheus HTTP API subset over Vigil's store, for Grafana and promtool.

Served under ``/prometheus`` (as Mimir does), so it cannot clash with Vigil's ``/api/v1``:
``/prometheus/api/v1/query``, ``/query_range``, ``/series``, ``/labels``, ``/metadata`` and
``/label/<name>/values``, by GET or by POST form, and ``/status/buildinfo``.
Answers use Prometheus' envelope: ``{"status": "success", "data": ...}`` or
``{"status": "error", "errorType": ..., "error": ...}`` (``bad_data`` 400 for a query Vigil
cannot parse or does not evaluate, ``execution`` 422, ``unavailable`` 503 when the store
cannot be read).
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from models.errors import MatcherError, QueryError
from models.store import MetricStore, SeriesInfo
from models.vocabulary.labels import parse_canonical
from models.vocabulary.resolution import Resolution, choose_resolution
from models.vocabulary.selectors import Selector
from tasks.api.unavailable import UNAVAILABLE
from tasks.api.unavailable import one_line as _line
from tasks.core.query.language import RangeSelect, parse_query, parse_series_selector
from tasks.core.query.params import parse_step, parse_time, step_times

if TYPE_CHECKING:  # the evaluator (numpy) and pandas load with the first query, not at start
    import pandas as pd

    from tasks.core.query.evaluate import Read, SeriesPoints

Params = dict[str, list[str]]
Clock = Callable[[], datetime]
MIN_TIME, MAX_TIME = 0.0, 253_402_300_799.0  # an open start or end: 1970 to the end of 9999


def create_prometheus_router(
    store: MetricStore,
    *,
    dependencies: Sequence[Any] = (),
    clock: Clock = lambda: datetime.now(UTC),
) -> APIRouter:
    """Return the router of the Prometheus query API on ``store`` (mount it at the app's root).

    ``dependencies`` guard every route (for example a bearer-token check).
    """
    router = APIRouter(prefix="/prometheus/api/v1", dependencies=list(dependencies))

    def answer(work: Callable[[Params], Any]) -> Callable:  # type: ignore[type-arg]
        async def endpoint(request: Request) -> JSONResponse:
            params = await _params(request)
            return await run_in_threadpool(_respond, work, params)

        return endpoint

    def query(params: Params) -> dict:
        at = _time(params, "time", clock().timestamp())
        return instant_query(store, _one(params, "query"), at, now=clock())

    def query_range(params: Params) -> dict:
        start, end = _time(params, "start"), _time(params, "end")
        step = parse_step(_one(params, "step"))
        return range_query(store, _one(params, "query"), start, end, step, now=clock())

    def series(params: Params) -> list[dict[str, str]]:
        return [_labels_of(s) for s in _matching(store, params, required=True)]

    def labels(params: Params) -> list[str]:
        found = _matching(store, params, required=False)
        return sorted({"__name__", *(k for s in found for k in s.labels)})

    def label_values(name: str, params: Params) -> list[str]:
        found = _matching(store, params, required=False)
        return sorted({v for s in found if (v := _labels_of(s).get(name))})

    def metadata(params: Params) -> dict[str, list[dict[str, str]]]:
        wanted = params.get("metric", [])
        found = store.find_series(Selector(wanted[0] if wanted else None))
        return {s.name: [{"type": str(s.kind), "help": "", "unit": s.unit}] for s in found}

    for path, work in (
        ("/query", query),
        ("/query_range", query_range),
        ("/series", series),
        ("/labels", labels),
        ("/metadata", metadata),
    ):
        for method in ("GET", "POST"):  # one route per method: distinct OpenAPI operation ids
            router.add_api_route(path, answer(work), methods=[method], name=work.__name__)

    @router.get("/status/buildinfo")
    async def buildinfo() -> JSONResponse:
        """What Grafana and other clients read to learn the server's flavour and version."""
        build = {"version": version("vigil"), "revision": "", "branch": "", "goVersion": ""}
        return JSONResponse({"status": "success", "data": build})

    @router.get("/label/{name}/values")
    async def values_of(name: str, request: Request) -> JSONResponse:
        params = await _params(request)
        return await run_in_threadpool(_respond, lambda p: label_values(name, p), params)

    return router


def instant_query(store: MetricStore, text: str, at: float, *, now: datetime) -> dict:
    """Evaluate ``text`` at ``at`` (epoch seconds); return the API's ``data``."""
    import numpy as np

    from tasks.core.query.evaluate import evaluate, reads
    from tasks.core.query.results import instant_data, raw_matrix

    node = parse_query(text)
    fetched = _fetch(store, list(reads(node)), at, at, now)
    if isinstance(node, RangeSelect):  # x[5m]: the raw samples
        found = fetched.get(node.selector, [])
        return raw_matrix(list(found), at - node.offset_s, node.range_s)
    return instant_data(evaluate(node, fetched, np.array([at])), at)


def range_query(
    store: MetricStore, text: str, start: float, end: float, step: float, *, now: datetime
) -> dict:
    """Evaluate ``text`` from ``start`` to ``end`` every ``step`` seconds; return ``data``."""
    import numpy as np

    from tasks.core.query.evaluate import evaluate, reads
    from tasks.core.query.results import range_data

    node = parse_query(text)
    if isinstance(node, RangeSelect):
        raise QueryError("a range query cannot return a range vector; use rate(x[5m]) or x")
    times = np.array(step_times(start, end, step))
    fetched = _fetch(store, list(reads(node)), start, end, now)
    return range_data(evaluate(node, fetched, times), times)


def _fetch(
    store: MetricStore, needed: "list[Read]", start: float, end: float, now: datetime
) -> "dict[Selector, list[SeriesPoints]]":
    """Read each selector's samples once, over the widest window any use of it needs.

    The resolution is chosen as ``MetricStore.query_range`` chooses it for the query's span;
    from a rollup, counters (read by rate/irate/increase) take each bucket's last value and
    everything else its mean.
    """
    span = _dt(start), _dt(end)
    resolution = choose_resolution(
        *span, now=now, raw_keep=store.raw_keep, minute_keep=store.minute_keep
    )
    windows: dict[Selector, tuple[float, float, bool]] = {}
    for read in needed:
        low = start - read.offset_s - read.lookback_s
        high = end - read.offset_s
        is_counter = read.is_counter
        if read.selector in windows:
            was_low, was_high, was_counter = windows[read.selector]
            low, high, is_counter = (
                min(low, was_low),
                max(high, was_high),
                is_counter or was_counter,
            )
        windows[read.selector] = (low, high, is_counter)
    fetched = {}
    for selector, (low, high, is_counter) in windows.items():
        frame = store.query_range(selector, _dt(low), _dt(high), resolution)
        column = "last" if is_counter and resolution is not Resolution.RAW else "value"
        fetched[selector] = list(_points(frame, column))
    return fetched


def _points(frame: "pd.DataFrame", column: str) -> "Iterable[SeriesPoints]":
    import pandas as pd

    from tasks.core.query.evaluate import SeriesPoints

    epoch = pd.Timestamp(0, tz="UTC")
    for (name, labels), rows in frame.groupby(["name", "labels"], sort=False):
        ts = ((rows["ts"] - epoch) / pd.Timedelta(seconds=1)).to_numpy(float)
        yield SeriesPoints(
            {"__name__": name, **parse_canonical(labels)}, ts, rows[column].to_numpy(float)
        )


def _matching(store: MetricStore, params: Params, *, required: bool) -> list[SeriesInfo]:
    """The series ``match[]`` selects (every series without one, unless ``required``), narrowed
    to those with data between ``start`` and ``end`` when either is given."""
    texts = params.get("match[]", [])
    if not texts and required:
        raise QueryError("no match[] parameter provided; give at least one series selector")
    found: dict[int, SeriesInfo] = {}
    for selector in [parse_series_selector(t) for t in texts] or [Selector(None)]:
        found.update((s.id, s) for s in store.find_series(selector))
    if "start" not in params and "end" not in params:
        return list(found.values())
    start, end = _time(params, "start", MIN_TIME), _time(params, "end", MAX_TIME)
    return store.with_data_between(list(found.values()), _dt(start), _dt(end))


def _labels_of(series: SeriesInfo) -> dict[str, str]:
    return {"__name__": series.name, **series.labels}


def _respond(work: Callable[[Params], Any], params: Params) -> JSONResponse:
    from tasks.core.query.evaluate import EvaluationError

    try:
        return JSONResponse({"status": "success", "data": work(params)})
    except EvaluationError as exc:
        return _error(422, "execution", str(exc))
    except (QueryError, MatcherError) as exc:
        return _error(400, "bad_data", str(exc))
    except UNAVAILABLE as exc:
        return _error(503, "unavailable", f"the store cannot be read: {_line(exc)}")


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"status": "error", "errorType": kind, "error": message}, status)


async def _params(request: Request) -> Params:
    """Query-string and form parameters together (Prometheus clients POST forms)."""
    params: Params = {}
    pairs = list(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        pairs += parse_qsl((await request.body()).decode("utf-8", "replace"))
    for key, value in pairs:
        params.setdefault(key, []).append(value)
    return params


def _one(params: Params, name: str) -> str:
    values = params.get(name)
    if not values:
        raise QueryError(f"{name}: parameter is missing")
    return values[-1]


def _time(params: Params, name: str, default: float | None = None) -> float:
    if name not in params and default is not None:
        return default
    return parse_time(name, _one(params, name))


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
