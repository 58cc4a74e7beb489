"""The metric store as the Metrics and Overview pages read it: names, labels, chart points."""

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Engine, func, select
from sqlmodel import col

from models.config.collectors import Retention
from models.metrics import Sample, Series
from models.rollups import Rollup1h, Rollup1m
from models.store import MetricStore, SeriesInfo
from models.vocabulary.labels import canonical_labels, parse_canonical
from models.vocabulary.resolution import STEP_MS, Resolution, choose_resolution
from models.vocabulary.selectors import LabelMatcher, Selector, label_matcher
from tasks.queries.frames import millis

if TYPE_CHECKING:
    import pandas as pd

ROLLUPS: dict[Resolution, type[Rollup1m] | type[Rollup1h]] = {
    Resolution.MINUTE: Rollup1m,
    Resolution.HOUR: Rollup1h,
}


def metric_names(engine: Engine) -> list[str]:
    """Return the names of all stored series, sorted."""
    with engine.connect() as conn:
        return list(conn.scalars(select(Series.name).distinct().order_by(Series.name)))


def label_values(engine: Engine, name: str) -> dict[str, list[str]]:
    """Return each label of the series called ``name`` with its sorted values."""
    with engine.connect() as conn:
        texts = conn.scalars(select(Series.labels).where(col(Series.name) == name))
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
    import pandas as pd

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
                window = (start, min(max(cut, start), end + timedelta(milliseconds=1)))
                rolled = _buckets(conn, _rollup_buckets(resolution, ids, step, *window))
                rows += rolled
                sources += [resolution] if rolled else []
            after = max(cut, start)
            raw = _buckets(conn, _raw_buckets(ids, step, after, end)) if after <= end else []
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

    frame: "pd.DataFrame"
    step_ms: int
    sources: tuple[Resolution, ...]


def _rolled_up_until(conn: Any, resolution: Resolution, ids: list[int]) -> datetime | None:
    """Return the end of the newest rollup bucket of any of ``ids``, or None."""
    rollup = ROLLUPS[resolution]
    newest = conn.scalar(select(func.max(rollup.bucket_ms)).where(col(rollup.series_id).in_(ids)))
    if newest is None:
        return None
    return datetime.fromtimestamp((newest + STEP_MS[resolution]) / 1000, UTC)


def _raw_buckets(ids: list[int], step: int, start: datetime, end: datetime) -> Any:
    """Samples of ``ids`` in ``[start, end]`` as ``series_id, bucket, sum, count, min, max``."""
    bucket = (col(Sample.ts_ms) // step * step).label("bucket")
    value = col(Sample.value)
    return (
        select(Sample.series_id, bucket, func.sum(value), func.count(), func.min(value))
        .add_columns(func.max(value))
        .where(col(Sample.series_id).in_(ids))
        .where(col(Sample.ts_ms) >= millis(start), col(Sample.ts_ms) <= millis(end))
        .group_by(Sample.series_id, bucket)
    )


def _rollup_buckets(
    resolution: Resolution, ids: list[int], step: int, start: datetime, end: datetime
) -> Any:
    """Rollups of ``ids`` in ``[start, end)``, in the columns of ``_raw_buckets``."""
    rollup = ROLLUPS[resolution]
    bucket = (col(rollup.bucket_ms) // step * step).label("bucket")
    total = func.sum(col(rollup.avg_value) * col(rollup.sample_count))
    return (
        select(rollup.series_id, bucket, total, func.sum(rollup.sample_count))
        .add_columns(func.min(rollup.min_value), func.max(rollup.max_value))
        .where(col(rollup.series_id).in_(ids))
        .where(col(rollup.bucket_ms) >= millis(start), col(rollup.bucket_ms) < millis(end))
        .group_by(rollup.series_id, bucket)
    )


def _buckets(conn: Any, query: Any) -> list[tuple]:  # type: ignore[type-arg]
    """Run a bucket query as plain tuples (pandas probes Row objects slowly)."""
    return [tuple(row) for row in conn.execute(query)]


def _merge_buckets(rows: list[tuple]) -> "pd.DataFrame":
    """Combine bucket rows (``series_id, bucket, sum, count, min, max``) that share a bucket."""
    import pandas as pd

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


def history_csv(frame: "pd.DataFrame") -> str:
    """Return the charted points as CSV: ``ts`` (ISO 8601, UTC), series and bucket stats."""
    columns = ["ts", "name", "labels", "value", "min", "max"]
    return frame[columns].to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def last_sample_at(engine: Engine) -> datetime | None:
    """Return the time of the newest stored sample, or None when there is none.

    One index lookup per series (not a scan of every sample), so it stays fast at 10 M rows.
    """
    newest_of_series = (
        select(func.max(Sample.ts_ms))
        .where(col(Sample.series_id) == col(Series.id))
        .correlate(Series)
        .scalar_subquery()
    )
    query = select(func.max(newest_of_series)).select_from(Series)
    with engine.connect() as conn:
        newest = conn.scalar(query)
    return None if newest is None else datetime.fromtimestamp(newest / 1000, UTC)


def store_counts(engine: Engine) -> dict[str, int]:
    """Return how many series and metric names are stored."""
    with engine.connect() as conn:
        counts = select(func.count(), func.count(col(Series.name).distinct())).select_from(Series)
        row = conn.execute(counts).one()
    return {"series": row[0], "metrics": row[1]}


def is_stale(last: datetime | None, *, now: datetime, stale_after: timedelta) -> bool:
    """Return True when nothing arrived within ``stale_after`` of ``now`` (or ever).

    >>> now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    >>> is_stale(now - timedelta(minutes=1), now=now, stale_after=timedelta(minutes=5))
    False
    """
    return last is None or now - last > stale_after


def with_labels(frame: "pd.DataFrame", series: Sequence[SeriesInfo]) -> "pd.DataFrame":
    """Add the canonical ``labels`` of each row's ``series_id`` (to match chart legends)."""
    canonical = {s.id: canonical_labels(s.labels) for s in series}
    return frame.assign(labels=frame["series_id"].map(canonical))
