"""Everything the dashboard reads, as DataFrames: the store (SQL) and the Prefect API.

Functions take an engine (or the Prefect API URL) and plain arguments; pages cache them.
"""

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, bindparam, inspect, text

from models.store import MetricStore, SeriesInfo
from tasks.core.labels import canonical_labels, parse_canonical
from tasks.core.selectors import LabelMatcher, Selector, label_matcher

# -- the metric store ------------------------------------------------------------


def has_tables(engine: Engine, *names: str) -> bool:
    """Return True when every table in ``names`` exists (its capability has landed)."""
    existing = set(inspect(engine).get_table_names())
    return all(name in existing for name in names)


def metric_names(engine: Engine) -> list[str]:
    """Return the names of all stored series, sorted."""
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT DISTINCT name FROM series ORDER BY name")))


def label_values(engine: Engine, name: str) -> dict[str, list[str]]:
    """Return each label of the series called ``name`` with its sorted values."""
    with engine.connect() as conn:
        texts = conn.scalars(text("SELECT labels FROM series WHERE name = :n"), {"n": name})
        values: dict[str, set[str]] = {}
        for labels in texts:
            for key, value in parse_canonical(labels).items():
                values.setdefault(key, set()).add(value)
    return {key: sorted(values[key]) for key in sorted(values)}


def build_selector(name: str, chosen: Mapping[str, Sequence[str]]) -> Selector:
    """Select series ``name`` whose labels take one of the ``chosen`` values (empty: any).

    >>> str(build_selector("cpu", {"host": ["a"], "mode": ["user", "sys.x"], "core": []}))
    'cpu{host="a", mode=~"user|sys\\\\\\\\.x"}'
    """
    matchers: list[LabelMatcher] = []
    for label, values in chosen.items():
        if len(values) == 1:
            matchers.append(label_matcher(label, "=", values[0]))
        elif values:
            matchers.append(label_matcher(label, "=~", "|".join(re.escape(v) for v in values)))
    return Selector(name, tuple(matchers))


def find_series(engine: Engine, selector: Selector) -> list[SeriesInfo]:
    """Return the series ``selector`` matches, ordered by name and labels."""
    return MetricStore(engine).find_series(selector)


POINT_BUDGET = 6000  # points per chart: keeps the browser and Vega-Lite quick


def bucket_ms(start: datetime, end: datetime, max_points: int) -> int:
    """Return the width of one chart point so ``[start, end]`` holds at most ``max_points``.

    Rounded up to a whole second, minute or hour so points line up on the clock.

    >>> bucket_ms(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC), 500)
    1260000
    """
    raw_ms = max(1, int((end - start).total_seconds() * 1000) // max_points)
    for unit_ms in (3_600_000, 60_000, 1000):
        if raw_ms >= unit_ms:
            return -(-raw_ms // unit_ms) * unit_ms
    return 1000


def series_history(
    engine: Engine,
    series: Sequence[SeriesInfo],
    start: datetime,
    end: datetime,
    *,
    max_points: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """Return the samples of ``series`` in ``[start, end]``, averaged into time buckets.

    Returns ``(frame, bucket_ms)``; frame columns: ``series_id, name, labels, ts, value``
    (plus ``min`` and ``max`` of each bucket). The bucket width comes from the span, so a
    7-day chart reads at most ``max_points`` points per series whatever the sample rate
    (default: 600, fewer when many series share the chart's ``POINT_BUDGET``).
    """
    if max_points is None:
        max_points = max(100, min(600, POINT_BUDGET // max(1, len(series))))
    step = bucket_ms(start, end, max_points)
    query = text(
        "SELECT series_id, (ts_ms / :step) * :step AS bucket, AVG(value), MIN(value), MAX(value) "
        "FROM sample WHERE series_id IN :ids AND ts_ms BETWEEN :start AND :end "
        "GROUP BY series_id, bucket ORDER BY series_id, bucket"
    ).bindparams(bindparam("ids", expanding=True))
    params = {"ids": [s.id for s in series], "step": step}
    params |= {"start": _millis(start), "end": _millis(end)}
    columns = ["series_id", "bucket", "value", "min", "max"]
    rows: list[tuple] = []
    if series:
        with engine.connect() as conn:  # plain tuples: pandas probes Row objects slowly
            rows = [tuple(row) for row in conn.execute(query, params)]
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(1, "name", frame["series_id"].map({s.id: s.name for s in series}))
    canonical = {s.id: canonical_labels(s.labels) for s in series}
    frame.insert(2, "labels", frame["series_id"].map(canonical))
    frame.insert(3, "ts", pd.to_datetime(frame.pop("bucket").astype("int64"), unit="ms", utc=True))
    return frame.astype({"value": "float64", "min": "float64", "max": "float64"}), step


def history_csv(frame: pd.DataFrame) -> str:
    """Return the charted points as CSV: ``ts`` (ISO 8601, UTC), series and bucket stats."""
    columns = ["ts", "name", "labels", "value", "min", "max"]
    return frame[columns].to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def last_sample_at(engine: Engine) -> datetime | None:
    """Return the time of the newest stored sample, or None when there is none.

    One index lookup per series (not a scan of every sample), so it stays fast at 10 M rows.
    """
    query = text(
        "SELECT MAX((SELECT MAX(ts_ms) FROM sample WHERE sample.series_id = series.id)) FROM series"
    )
    with engine.connect() as conn:
        newest = conn.scalar(query)
    return None if newest is None else datetime.fromtimestamp(newest / 1000, UTC)


def store_counts(engine: Engine) -> dict[str, int]:
    """Return how many series and metric names are stored."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT name) FROM series")).one()
    return {"series": row[0], "metrics": row[1]}


def is_stale(last: datetime | None, *, now: datetime, stale_after: timedelta) -> bool:
    """Return True when nothing arrived within ``stale_after`` of ``now`` (or ever).

    >>> now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    >>> is_stale(now - timedelta(minutes=1), now=now, stale_after=timedelta(minutes=5))
    False
    """
    return last is None or now - last > stale_after


def _millis(ts: datetime) -> int:
    return round(ts.timestamp() * 1000)


# -- the Prefect API -------------------------------------------------------------

RUN_COLUMNS = ["flow", "run", "state", "start", "end", "duration_s", "message", "id"]


class PrefectUnavailable(Exception):
    """The Prefect API did not answer; the message says where it was looked for."""


@contextmanager
def prefect_client(api_url: str) -> Iterator[Any]:
    """Open a sync Prefect client (no event loop to fight in Streamlit), 5 s timeouts.

    Raises:
        PrefectUnavailable: the API cannot be reached or answered with an error.
    """
    import httpx
    from prefect.client.orchestration import SyncPrefectClient

    try:
        with SyncPrefectClient(api_url, httpx_settings={"timeout": 5}) as client:
            yield client
    except (httpx.HTTPError, OSError) as exc:
        raise PrefectUnavailable(f"the Prefect API at {api_url} did not answer: {exc}") from exc


def flow_names(api_url: str) -> list[str]:
    """Return the names of the flows the Prefect API knows, sorted."""
    from prefect.client.schemas.sorting import FlowSort

    with prefect_client(api_url) as client:
        return [f.name for f in client.read_flows(limit=200, sort=FlowSort.NAME_ASC)]


def flow_runs(
    api_url: str,
    *,
    since: datetime,
    flows: Sequence[str] = (),
    states: Sequence[str] = (),
    limit: int = 500,
) -> pd.DataFrame:
    """Return up to ``limit`` flow runs expected to start after ``since``, newest first.

    Columns: ``RUN_COLUMNS``; ``state`` is the state type (COMPLETED, FAILED, …).

    Raises:
        PrefectUnavailable: the API at ``api_url`` cannot be reached or answered an error.
    """
    from prefect.client.schemas import filters as f
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort, FlowSort

    run_filter = f.FlowRunFilter(expected_start_time=f.FlowRunFilterExpectedStartTime(after_=since))
    if states:
        state_types = f.FlowRunFilterStateType(any_=[StateType(s) for s in states])
        run_filter.state = f.FlowRunFilterState(type=state_types)
    flow_filter = f.FlowFilter(name=f.FlowFilterName(any_=list(flows))) if flows else None
    runs: list[Any] = []
    with prefect_client(api_url) as client:
        names = {fl.id: fl.name for fl in client.read_flows(limit=200, sort=FlowSort.NAME_ASC)}
        while len(runs) < limit:  # the API returns at most 200 per call
            page = client.read_flow_runs(
                flow_filter=flow_filter,
                flow_run_filter=run_filter,
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=min(200, limit - len(runs)),
                offset=len(runs),
            )
            runs.extend(page)
            if len(page) < 200:
                break
    return pd.DataFrame([_run_row(run, names) for run in runs], columns=RUN_COLUMNS)


def _run_row(run: Any, flow_names: Mapping[Any, str]) -> dict[str, Any]:
    state = run.state
    return {
        "flow": flow_names.get(run.flow_id, str(run.flow_id)),
        "run": run.name,
        "state": state.type.value if state else "UNKNOWN",
        "start": run.start_time or run.expected_start_time,
        "end": run.end_time,
        "duration_s": run.total_run_time.total_seconds(),
        "message": (state.message or "") if state else "",
        "id": str(run.id),
    }


def run_url(ui_url: str, run_id: str) -> str:
    """Return the Prefect UI page of a flow run.

    >>> run_url("http://127.0.0.1:4200", "abc")
    'http://127.0.0.1:4200/runs/flow-run/abc'
    """
    return f"{ui_url.rstrip('/')}/runs/flow-run/{run_id}"
