"""Everything the dashboard reads, as DataFrames: the store (SQL) and the Prefect API.

Functions take an engine (or the Prefect API URL) and plain arguments; pages cache them.
"""

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    bindparam,
    column,
    func,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.sql.expression import ColumnClause, TableClause

from models.config.collectors import Retention
from models.store import MetricStore, SeriesInfo
from models.vocabulary.labels import canonical_labels, parse_canonical
from models.vocabulary.resolution import STEP_MS, Resolution, choose_resolution
from models.vocabulary.selectors import LabelMatcher, Selector, label_matcher, parse_selector

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


_RAW_BUCKETS = (
    "SELECT series_id, (ts_ms / :step) * :step AS bucket, SUM(value), COUNT(*), MIN(value), "
    "MAX(value) FROM sample WHERE series_id IN :ids AND ts_ms >= :start AND ts_ms <= :end "
    "GROUP BY series_id, bucket"
)
_ROLLUP_BUCKETS = (
    "SELECT series_id, (bucket_ms / :step) * :step AS bucket, SUM(avg_value * sample_count), "
    "SUM(sample_count), MIN(min_value), MAX(max_value) FROM rollup_{resolution} "
    "WHERE series_id IN :ids AND bucket_ms >= :start AND bucket_ms < :end "
    "GROUP BY series_id, bucket"
)


def history_resolution(
    start: datetime, end: datetime, *, now: datetime, retention: Retention
) -> Resolution:
    """Pick raw samples, 1-minute or 1-hour rollups for a chart, as the store does."""
    return choose_resolution(
        start, end, now=now, raw_keep=retention.raw, minute_keep=retention.rollup_1m
    )


def series_history(
    engine: Engine,
    series: Sequence[SeriesInfo],
    start: datetime,
    end: datetime,
    *,
    resolution: Resolution = Resolution.RAW,
    max_points: int | None = None,
) -> "History":
    """Return the points of ``series`` in ``[start, end]``, averaged into time buckets.

    The frame's columns: ``series_id, name, labels, ts, value``
    (plus ``min`` and ``max`` of each bucket). The bucket width comes from the span, so a
    7-day chart reads at most ``max_points`` points per series whatever the sample rate
    (default: 600, fewer when many series share the chart's ``POINT_BUDGET``). With a
    rollup ``resolution``, rollups answer up to the newest one written and raw samples the
    rest (the maintenance flow rolls up only every so often).
    """
    if max_points is None:
        max_points = max(100, min(600, POINT_BUDGET // max(1, len(series))))
    step = max(bucket_ms(start, end, max_points), STEP_MS.get(resolution, 0))
    ids = [s.id for s in series]
    rows: list[tuple] = []
    sources: list[Resolution] = []
    if ids:
        with engine.connect() as conn:  # plain tuples: pandas probes Row objects slowly
            cut = start
            if resolution is not Resolution.RAW:
                cut = _rolled_up_until(conn, resolution, ids) or start
                sql = _ROLLUP_BUCKETS.format(resolution=resolution)
                window = (start, min(max(cut, start), end + timedelta(milliseconds=1)))
                rolled = _buckets(conn, sql, ids, step, *window)
                rows += rolled
                sources += [resolution] if rolled else []
            raw = _buckets(conn, _RAW_BUCKETS, ids, step, max(cut, start), end)
            rows += raw
            sources += [Resolution.RAW] if raw else []
    frame = _merge_buckets(rows)
    frame.insert(1, "name", frame["series_id"].map({s.id: s.name for s in series}))
    canonical = {s.id: canonical_labels(s.labels) for s in series}
    frame.insert(2, "labels", frame["series_id"].map(canonical))
    frame.insert(3, "ts", pd.to_datetime(frame.pop("bucket").astype("int64"), unit="ms", utc=True))
    return History(frame, step, tuple(sources))


class History(NamedTuple):
    """Chart points, the width of one point, and where they came from (rollups, raw)."""

    frame: pd.DataFrame
    step_ms: int
    sources: tuple[Resolution, ...]


def _rolled_up_until(conn: Any, resolution: Resolution, ids: list[int]) -> datetime | None:
    """Return the end of the newest rollup bucket of any of ``ids``, or None."""
    query = text(f"SELECT MAX(bucket_ms) FROM rollup_{resolution} WHERE series_id IN :ids")
    newest = conn.scalar(query.bindparams(bindparam("ids", expanding=True)), {"ids": ids})
    if newest is None:
        return None
    return datetime.fromtimestamp((newest + STEP_MS[resolution]) / 1000, UTC)


def _buckets(conn: Any, sql: str, ids: list[int], step: int, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    if start > end:
        return []
    query = text(sql).bindparams(bindparam("ids", expanding=True))
    params = {"ids": ids, "step": step, "start": _millis(start), "end": _millis(end)}
    return [tuple(row) for row in conn.execute(query, params)]


def _merge_buckets(rows: list[tuple]) -> pd.DataFrame:
    """Combine bucket rows (``series_id, bucket, sum, count, min, max``) that share a bucket."""
    columns = ["series_id", "bucket", "sum", "count", "min", "max"]
    raw = pd.DataFrame(rows, columns=columns).astype(
        {"sum": "float64", "count": "int64", "min": "float64", "max": "float64"}
    )
    merged = raw.groupby(["series_id", "bucket"], as_index=False, sort=True).agg(
        sum=("sum", "sum"), count=("count", "sum"), min=("min", "min"), max=("max", "max")
    )
    value = merged.pop("sum") / merged.pop("count")
    merged.insert(2, "value", value.astype("float64"))
    return merged


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

    It authenticates as Prefect's own clients do (``PREFECT_API_AUTH_STRING``, which
    `vigil up` hands to the dashboard).

    Raises:
        PrefectUnavailable: the API cannot be reached or answered with an error.
    """
    import httpx
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.settings import PREFECT_API_AUTH_STRING

    auth = PREFECT_API_AUTH_STRING.value()
    try:
        with SyncPrefectClient(api_url, auth_string=auth, httpx_settings={"timeout": 5}) as client:
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


# -- health checks (tables of the checks capability) -----------------------------


_TIMES = {"at", "since", "ts", "train_start", "train_end"}


def _table(name: str, columns: str) -> TableClause:
    """A table of another capability, named here: columns are quoted and typed (``*_at``
    and a few others are UTC timestamps, ``is_*`` booleans) so both backends agree."""

    def typed(name: str) -> ColumnClause:
        if name in _TIMES or name.endswith("_at"):
            return column(name, DateTime(timezone=True))
        return column(name, Boolean) if name.startswith("is_") else column(name)

    return table(name, *(typed(c) for c in columns.split()))


CHECK_STATE = _table(
    "check_state", "check target status is_hard failures passes since checked_at message"
)
CHECK_RESULT = _table("check_result", "check target component at status is_hard latency_ms message")
HEALTH_SCORE = _table("health_score", "at scope node score level")
FLAP_CHANGES = 4  # status changes within the recent results that make a check flapping


def check_states(engine: Engine, *, since: datetime, recent: int = 20) -> pd.DataFrame:
    """Return each check's current state with ``changes``/``is_flapping`` from recent results.

    Columns: ``check, target, status, state`` (hard/soft), ``failures, since, checked_at,
    message, changes, is_flapping``; a check is flapping when its last ``recent`` results since
    ``since`` changed status at least ``FLAP_CHANGES`` times.
    """
    c = CHECK_STATE.c
    query = select(c.check, c.target, c.status, c.is_hard, c.failures, c.since, c.checked_at)
    query = query.add_columns(c.message).order_by(c.target, c.check)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
        results = conn.execute(
            select(CHECK_RESULT.c.check, CHECK_RESULT.c.status)
            .where(CHECK_RESULT.c.at >= since, CHECK_RESULT.c.status != "late")  # not run
            .order_by(CHECK_RESULT.c.check, CHECK_RESULT.c.at)
        ).all()
    columns = ["check", "target", "status", "is_hard", "failures", "since", "checked_at", "message"]
    frame = pd.DataFrame(rows, columns=columns)
    changes: dict[str, int] = {}
    for check, statuses in _group_statuses(results, recent).items():
        changes[check] = sum(a != b for a, b in itertools.pairwise(statuses))
    frame["changes"] = frame["check"].map(changes).fillna(0).astype("int64")
    frame["is_flapping"] = frame["changes"] >= FLAP_CHANGES
    frame.insert(3, "state", frame.pop("is_hard").map({True: "hard", False: "soft"}))
    for name in ("since", "checked_at"):
        frame[name] = _utc(frame[name])
    return frame


def _group_statuses(results: Sequence[Any], recent: int) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for check, status in results:
        grouped.setdefault(check, []).append(status)
    return {check: statuses[-recent:] for check, statuses in grouped.items()}


def check_history(engine: Engine, check: str, *, since: datetime) -> pd.DataFrame:
    """Return the results of ``check`` since ``since``.

    Columns: ``at, status, is_hard, latency_ms, message``.
    """
    c = CHECK_RESULT.c
    query = (
        select(c.at, c.status, c.is_hard, c.latency_ms, c.message)
        .where(c.check == check, c.at >= since)
        .order_by(c.at)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["at", "status", "is_hard", "latency_ms", "message"])
    frame["at"] = _utc(frame["at"])
    return frame.astype({"latency_ms": "float64"})


def newest_health(engine: Engine, scope: str) -> pd.DataFrame:
    """Return the newest score of each node of ``scope``: ``node, at, score, level``."""
    h = HEALTH_SCORE.c
    newest = (
        select(h.node, func.max(h.at).label("at")).where(h.scope == scope).group_by(h.node)
    ).subquery()
    query = (
        select(h.node, h.at, h.score, h.level)
        .join(newest, (h.node == newest.c.node) & (h.at == newest.c.at))
        .where(h.scope == scope)
        .order_by(h.node)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["node", "at", "score", "level"])
    frame["at"] = _utc(frame["at"])
    return frame.astype({"score": "float64"})


def health_trend(engine: Engine, scope: str, *, since: datetime) -> pd.DataFrame:
    """Return the scores of ``scope`` since ``since``: ``node, at, score, level``."""
    h = HEALTH_SCORE.c
    query = (
        select(h.node, h.at, h.score, h.level)
        .where(h.scope == scope, h.at >= since)
        .order_by(h.node, h.at)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["node", "at", "score", "level"])
    frame["at"] = _utc(frame["at"])
    return frame.astype({"score": "float64"})


def last_check_at(engine: Engine) -> datetime | None:
    """Return when any check last ran, or None."""
    with engine.connect() as conn:
        newest = conn.scalar(select(func.max(CHECK_STATE.c.checked_at)))
    return _aware(newest)


def _utc(values: pd.Series) -> pd.Series:
    """Stored timestamps as aware UTC (SQLite hands them back naive, meaning UTC)."""
    return pd.to_datetime(values, utc=True)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


# -- alerts (tables of the alerting capability) ----------------------------------

ALERT = _table(
    "alert",
    "id fingerprint rule labels state value active_since fired_at resolved_at is_flapping "
    "ack_by ack_at ack_comment ack_expires_at escalation_level",
)
ALERT_TRANSITION = _table("alert_transition", "alert_id rule from_state to_state at value reason")
SILENCE = _table("silence", "id matchers starts_at ends_at created_by comment")
NOTIFICATION = _table(
    "notification", "id channel kind title status attempts last_error created_at sent_at"
)
ALERT_COLUMNS = [
    "id", "rule", "severity", "state", "labels", "value", "active_since", "fired_at",
    "resolved_at", "is_flapping", "ack_by", "ack_at", "ack_comment", "ack_expires_at",
]  # fmt: skip


SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def alerts(
    engine: Engine,
    *,
    states: Sequence[str] = (),
    severities: Sequence[str] = (),
    selector: Selector | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Return alerts (most severe, then newest first) in ``states`` with a ``severity`` label
    in ``severities`` whose labels match ``selector``; empty filters keep everything.

    Columns: ``ALERT_COLUMNS``; ``labels`` is the label dict without ``severity``.
    """
    a = ALERT.c
    query = select(*(a[c] for c in ALERT_COLUMNS if c != "severity"))
    if states:
        query = query.where(a.state.in_(list(states)))
    query = query.order_by(a.active_since.desc(), a.id.desc())
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for row in rows:
        labels = parse_canonical(row.labels)
        if severities and labels.get("severity") not in severities:
            continue
        if selector is not None and not selector.matches(row.rule, labels):
            continue
        severity = labels.pop("severity", "")
        out.append({**row._asdict(), "labels": labels, "severity": severity})
        if len(out) == limit:
            break
    frame = pd.DataFrame(out, columns=ALERT_COLUMNS)
    for name in ("active_since", "fired_at", "resolved_at", "ack_at", "ack_expires_at"):
        frame[name] = _utc(frame[name])
    rank = frame["severity"].map(SEVERITY_RANK).fillna(len(SEVERITY_RANK))
    return frame.iloc[rank.argsort(kind="stable")].reset_index(drop=True)


def alert_transitions(engine: Engine, *, since: datetime, limit: int = 500) -> pd.DataFrame:
    """Return alert state changes since ``since``, newest first."""
    t = ALERT_TRANSITION.c
    query = (
        select(t.at, t.alert_id, t.rule, t.from_state, t.to_state, t.value, t.reason)
        .where(t.at >= since)
        .order_by(t.at.desc())
        .limit(limit)
    )
    columns = ["at", "alert_id", "rule", "from_state", "to_state", "value", "reason"]
    with engine.connect() as conn:
        frame = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=columns)
    frame["at"] = _utc(frame["at"])
    return frame


TIMELINE_COLUMNS = ["at", "kind", "summary", "actor"]


def alert_id(engine: Engine, fingerprint: str) -> int | None:
    """Return the id of the alert with ``fingerprint`` (from a notification's link), or None."""
    with engine.connect() as conn:
        return conn.execute(select(ALERT.c.id).where(ALERT.c.fingerprint == fingerprint)).scalar()


def alert_timeline(engine: Engine, alert_id: int) -> pd.DataFrame:
    """Return one alert's history, oldest first: state changes, notifications with their
    delivery result, acknowledgements, recovery runs, approvals and steps."""
    from tasks.alerting.timeline import read_timeline

    with engine.connect() as conn:
        found = read_timeline(conn, str(alert_id))
    events = found[1] if found else []
    frame = pd.DataFrame(
        [(e.at, e.kind, e.summary, e.actor) for e in events], columns=TIMELINE_COLUMNS
    )
    frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
    return frame


def silences(engine: Engine, *, now: datetime, include_expired: bool = False) -> pd.DataFrame:
    """Return silences that have not ended (or all, newest first)."""
    s = SILENCE.c
    query = select(s.id, s.matchers, s.starts_at, s.ends_at, s.created_by, s.comment)
    if not include_expired:
        query = query.where(s.ends_at > now)
    columns = ["id", "matchers", "starts_at", "ends_at", "created_by", "comment"]
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query.order_by(s.id.desc()))]
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("starts_at", "ends_at"):
        frame[name] = _utc(frame[name])
    return frame


def deliveries(engine: Engine, *, limit: int = 200) -> pd.DataFrame:
    """Return the newest notifications with their delivery status and last error."""
    n = NOTIFICATION.c
    columns = ["created_at", "channel", "kind", "title", "status", "attempts", "last_error"]
    columns.append("sent_at")
    query = select(*(n[c] for c in columns)).order_by(n.created_at.desc(), n.id.desc())
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query.limit(limit))]
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("created_at", "sent_at"):
        frame[name] = _utc(frame[name])
    return frame


# -- recoveries (tables of the recovery capability) ------------------------------

RECOVERY_RUN = _table(
    "recovery_run",
    "id procedure target trigger state is_dry_run flow_run_id requested_at finished_at message",
)
RECOVERY_AUDIT = _table("recovery_audit", "id run_id procedure target at event actor detail")
RUN_IN_PROGRESS = ("admitted", "queued", "awaiting_approval", "running")


def recovery_runs(engine: Engine, *, states: Sequence[str] = (), limit: int = 200) -> pd.DataFrame:
    """Return the newest recovery runs (optionally only in ``states``) with their duration."""
    r = RECOVERY_RUN.c
    columns = [
        "id", "procedure", "target", "trigger", "state", "is_dry_run", "requested_at",
        "finished_at", "message", "flow_run_id",
    ]  # fmt: skip
    # an enum column written through SQLModel holds the member name (AWAITING_APPROVAL)
    state = func.lower(r.state)
    picked = (state.label("state") if c == "state" else r[c] for c in columns)
    query = select(*picked).order_by(r.requested_at.desc(), r.id.desc())
    if states:
        query = query.where(state.in_(list(states)))
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query.limit(limit))]
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("requested_at", "finished_at"):
        frame[name] = _utc(frame[name])
    frame.insert(8, "duration_s", (frame["finished_at"] - frame["requested_at"]).dt.total_seconds())
    return frame


def recovery_audit(engine: Engine, run_id: int) -> pd.DataFrame:
    """Return the recorded decisions and steps of one run, oldest first, with the seconds
    each took since the previous record (``after_s``)."""
    a = RECOVERY_AUDIT.c
    event = func.lower(a.event).label("event")
    query = select(a.at, event, a.actor, a.detail).where(a.run_id == run_id).order_by(a.at, a.id)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["at", "event", "actor", "detail"])
    frame["at"] = _utc(frame["at"])
    frame.insert(1, "after_s", frame["at"].diff().dt.total_seconds())
    return frame


# -- models (tables of the analytics capability) ---------------------------------

MODEL_VERSION = _table(
    "model_version",
    "id series_id version model status train_start train_end backtest_mase baseline_mase "
    "reason error created_at",
)
FORECAST_POINT = _table("forecast_point", "series_id issued_at ts yhat lower upper")
ANOMALY_SCORE = _table("anomaly_score", "series_id detector ts_ms score")
MODEL_COLUMNS = [
    "series", "version", "model", "status", "backtest_mase", "baseline_mase", "reason",
    "train_start", "train_end", "created_at", "error",
]  # fmt: skip


def model_versions(engine: Engine, *, statuses: Sequence[str] = ()) -> pd.DataFrame:
    """Return model versions with their series and backtest scores, newest first.

    ``backtest_mase`` below ``baseline_mase`` means the model beats the seasonal naive one.
    """
    m = MODEL_VERSION.c
    series = table("series", column("id"), column("name"), column("labels"))
    status = func.lower(m.status)  # written through SQLModel as the enum member's name
    picked = (status.label("status") if c == "status" else m[c] for c in MODEL_COLUMNS[1:])
    query = (
        select(series.c.name, series.c.labels, *picked)
        .join_from(MODEL_VERSION, series, series.c.id == m.series_id)
        .order_by(m.created_at.desc(), m.id.desc())
    )
    if statuses:
        query = query.where(status.in_(list(statuses)))
    with engine.connect() as conn:
        rows = conn.execute(query.limit(1000)).all()
    out = [(f"{r[0]}{_brace(r[1])}", *r[2:]) for r in rows]
    frame = pd.DataFrame(out, columns=MODEL_COLUMNS)
    for name in ("train_start", "train_end", "created_at"):
        frame[name] = _utc(frame[name])
    return frame


def forecast(engine: Engine, series_ids: Sequence[int]) -> pd.DataFrame:
    """Return the newest forecast of each series: ``series_id, ts, yhat, lower, upper``."""
    f = FORECAST_POINT.c
    newest = (
        select(f.series_id, func.max(f.issued_at).label("issued_at"))
        .where(f.series_id.in_(list(series_ids)))
        .group_by(f.series_id)
    ).subquery()
    query = (
        select(f.series_id, f.ts, f.yhat, f.lower, f.upper)
        .join(
            newest,
            (f.series_id == newest.c.series_id) & (f.issued_at == newest.c.issued_at),
        )
        .order_by(f.series_id, f.ts)
    )
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query)] if series_ids else []
    frame = pd.DataFrame(rows, columns=["series_id", "ts", "yhat", "lower", "upper"])
    frame["ts"] = _utc(frame["ts"])
    return frame.astype({"yhat": "float64", "lower": "float64", "upper": "float64"})


def anomalies(
    engine: Engine, series_ids: Sequence[int], start: datetime, end: datetime, min_score: float
) -> pd.DataFrame:
    """Return samples scored at least ``min_score`` by any detector: ``series_id, ts, value,
    score, detector`` (the highest-scoring detector of each sample)."""
    query = text(
        "SELECT a.series_id, a.ts_ms, s.value, a.score, a.detector FROM anomaly_score a "
        "JOIN sample s ON s.series_id = a.series_id AND s.ts_ms = a.ts_ms "
        "WHERE a.series_id IN :ids AND a.ts_ms BETWEEN :start AND :end AND a.score >= :min "
        "ORDER BY a.series_id, a.ts_ms, a.score DESC"
    ).bindparams(bindparam("ids", expanding=True))
    params = {"ids": list(series_ids), "start": _millis(start), "end": _millis(end)}
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query, params | {"min": min_score})]
    frame = pd.DataFrame(rows, columns=["series_id", "ts_ms", "value", "score", "detector"])
    frame = frame.drop_duplicates(["series_id", "ts_ms"])
    frame.insert(1, "ts", pd.to_datetime(frame.pop("ts_ms").astype("int64"), unit="ms", utc=True))
    return frame


def with_labels(frame: pd.DataFrame, series: Sequence[SeriesInfo]) -> pd.DataFrame:
    """Add the canonical ``labels`` of each row's ``series_id`` (to match chart legends)."""
    canonical = {s.id: canonical_labels(s.labels) for s in series}
    return frame.assign(labels=frame["series_id"].map(canonical))


def rule_thresholds(rules: Sequence[Any], series: Sequence[SeriesInfo]) -> pd.DataFrame:
    """Return the thresholds of alert rules that watch any of ``series``.

    Threshold rules give ``value``, forecast rules ``threshold``. Columns: ``rule, value,
    severity``. ``rules`` are the config's rules (models or, before alerting, plain dicts).
    """
    out = []
    for rule in rules:
        spec = rule if isinstance(rule, Mapping) else rule.model_dump(mode="json", by_alias=True)
        kind = spec.get("kind", "threshold")
        level = spec.get("value") if kind == "threshold" else spec.get("threshold")
        if not spec.get("series") or level is None or kind not in ("threshold", "forecast"):
            continue
        selector = parse_selector(spec["series"])
        if any(selector.matches(s.name, s.labels) for s in series):
            out.append(
                {"rule": spec["name"], "value": float(level), "severity": spec.get("severity", "")}
            )
    return pd.DataFrame(out, columns=["rule", "value", "severity"])


def _brace(labels_text: str) -> str:
    labels = parse_canonical(labels_text)
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else ""
