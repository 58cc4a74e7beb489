"""The metric store: bulk writes, label-matcher lookups and range queries as DataFrames."""

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import psycopg
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, Engine, bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from models.db import is_sqlite
from models.errors import StoreError
from models.metrics import MetricKind, Series
from models.vocabulary.labels import canonical_labels, label_set_problem, parse_canonical
from models.vocabulary.resolution import Resolution, choose_resolution
from models.vocabulary.selectors import Selector, label_prefilters, parse_selector

if TYPE_CHECKING:
    import pandas as pd

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
_KINDS = tuple(kind.value for kind in MetricKind)
SERIES = Series.__table__  # type: ignore[attr-defined]
# Where a series' data lies, and how long before a bound a bucket may start and still overlap.
DATA_SPANS = (
    ("sample", "ts_ms", 0),
    ("rollup_1m", "bucket_ms", 59_999),
    ("rollup_1h", "bucket_ms", 3_599_999),
)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # sample.ts_ms is a BIGINT on both stores


class NewSample(NamedTuple):
    """A value to store: ``ts`` is seconds since the epoch (UTC) or an aware datetime."""

    name: str
    labels: Mapping[str, str]
    ts: float | datetime
    value: float
    kind: MetricKind = MetricKind.GAUGE
    unit: str = ""


class Point(NamedTuple):
    """A stored sample as plain values, for readers that need no DataFrame (nor pandas)."""

    series_id: int
    name: str
    labels: str  # canonical JSON
    ts: float  # seconds since the epoch (UTC)
    value: float


@dataclass(frozen=True)
class Rejection:
    """A sample the store refused, and why."""

    index: int
    sample: Any
    reason: str


@dataclass
class WriteResult:
    """What a write stored, what it refused, and how many were already stored.

    ``duplicates`` counts samples whose series already had a value at that instant
    (stored before, or earlier in the same batch): the first value wins.
    """

    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: int = 0


@dataclass(frozen=True)
class SeriesInfo:
    """A stored series' identity."""

    id: int
    name: str
    labels: dict[str, str]
    kind: MetricKind
    unit: str


_Read = tuple[list[SeriesInfo], Any, dict[str, Any]]  # the series, the query, its parameters


class MetricStore:
    """Read and write series and samples through one engine.

    Series ids are cached per store; samples are written in bulk (``executemany`` on
    SQLite, ``COPY`` on PostgreSQL). A sample whose series and timestamp are already
    stored is ignored: the first value written for an instant wins.

    ``raw_keep`` and ``minute_keep`` are the retention periods (``collectors.retention``);
    automatic range queries use them to know which resolution still holds the data.

    Each id cache holds at most ``cache_series`` entries, so memory stays flat however many
    series arrive; when full, the oldest tenth learned is forgotten (looked up again if seen).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        raw_keep: timedelta = timedelta(days=7),
        minute_keep: timedelta = timedelta(days=14),
        cache_series: int = 50_000,
    ) -> None:
        self.engine = engine
        self.raw_keep, self.minute_keep = raw_keep, minute_keep
        self.cache_series = cache_series
        self._ids: dict[SeriesKey, int] = {}  # labels in the order callers give them
        self._by_identity: dict[tuple[str, str], int] = {}  # (name, canonical labels)

    # -- writing -----------------------------------------------------------------

    def write(self, samples: Iterable[NewSample]) -> WriteResult:
        """Store ``samples`` in one transaction; refuse bad ones with a reason, keep the rest."""
        result = WriteResult()
        rows: list[tuple[int, int, float]] = []
        waiting: dict[SeriesKey, list[tuple[int, int, float, Any]]] = {}
        learned: dict[SeriesKey, tuple[tuple[str, str], int]] = {}  # key -> (identity, id)
        ids = self._ids
        for index, sample in enumerate(samples):
            # The hot path: one sample per series per tick, millions per minute.
            try:
                value = float(sample.value)
                ts_ms = round(sample.ts * 1000)  # type: ignore[operator]  # datetimes: slow path
                key = (sample.name, tuple(sample.labels.items()))
            except (TypeError, ValueError, AttributeError, OverflowError):
                try:
                    key, ts_ms, value = _parse_slowly(sample)
                except ValueError as exc:
                    result.rejected.append(Rejection(index, sample, f"malformed sample: {exc}"))
                    continue
            if value != value:
                result.rejected.append(Rejection(index, sample, "value is NaN"))
                continue
            if not INT64_MIN <= ts_ms <= INT64_MAX:
                result.rejected.append(Rejection(index, sample, TS_RANGE_REASON))
                continue
            series_id = ids.get(key)
            if series_id is None:
                waiting.setdefault(key, []).append((index, ts_ms, value, sample))
            else:
                rows.append((series_id, ts_ms, value))
        try:
            with self.engine.begin() as conn:
                if waiting:
                    self._resolve_new_series(conn, waiting, result, learned)
                    for key, (_, series_id) in learned.items():
                        rows.extend((series_id, ts, value) for _, ts, value, _ in waiting[key])
                stored = _insert_samples(conn, rows) if rows else 0
        except (OperationalError, InterfaceError, psycopg.OperationalError) as exc:
            # psycopg's own errors come from the COPY, which runs on the raw connection
            raise StoreError(f"cannot write to the store: {one_line(exc)}") from exc
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            raise StoreError(f"lost the store connection: {one_line(exc)}") from exc
        # Remembered only once committed: an id from a rolled-back insert names no series.
        for cache in (self._ids, self._by_identity):
            _make_room(cache, len(learned), self.cache_series)
        for key, (identity, series_id) in learned.items():
            self._ids[key] = self._by_identity[identity] = series_id
        result.accepted, result.duplicates = stored, len(rows) - stored
        result.rejected.sort(key=lambda r: r.index)
        return result

    def _resolve_new_series(
        self,
        conn: Connection,
        waiting: dict[SeriesKey, list[tuple[int, int, float, Any]]],
        result: WriteResult,
        learned: dict[SeriesKey, tuple[tuple[str, str], int]],
    ) -> None:
        """Find or create the series of keys not seen yet; put their ids in ``learned``.

        The caller remembers ``learned`` only once the write is committed.
        """
        unknown: dict[tuple[str, str], list[SeriesKey]] = {}
        new_rows = []
        now = datetime.now(UTC)
        for key, pending in waiting.items():
            first = pending[0][3]
            problem = label_set_problem(key[0], first.labels)
            if first.kind not in _KINDS:
                problem = f"kind {first.kind!r} is not one of {', '.join(_KINDS)}"
            if problem:
                result.rejected.extend(Rejection(i, s, problem) for i, _, _, s in pending)
                continue
            identity = (key[0], canonical_labels(first.labels))
            if identity in self._by_identity:  # known series, labels in another order
                learned[key] = (identity, self._by_identity[identity])
                continue
            if identity not in unknown:
                new_rows.append(
                    {
                        "name": identity[0],
                        "labels": identity[1],
                        "kind": str(first.kind),
                        "unit": first.unit,
                        "created_at": now,
                    }
                )
            unknown.setdefault(identity, []).append(key)
        if not new_rows:
            return
        insert = (sqlite if is_sqlite(self.engine) else postgresql).insert(SERIES)
        conn.execute(insert.on_conflict_do_nothing(), new_rows)
        names = sorted({name for name, _ in unknown})
        found = conn.execute(
            select(SERIES.c.id, SERIES.c.name, SERIES.c.labels).where(
                SERIES.c.name.in_(bindparam("names", expanding=True))
            ),
            {"names": names},
        )
        for series_id, name, text_labels in found:
            for key in unknown.get((name, text_labels), ()):
                learned[key] = ((name, text_labels), series_id)

    # -- reading -----------------------------------------------------------------

    def find_series(self, selector: str | Selector) -> list[SeriesInfo]:
        """Return every series the selector matches, ordered by name and labels."""
        selector = parse_selector(selector) if isinstance(selector, str) else selector
        columns = SERIES.c
        query = select(columns.id, columns.name, columns.labels, columns.kind, columns.unit)
        if selector.name is not None:
            query = query.where(columns.name == selector.name)
        for pattern in label_prefilters(selector):
            query = query.where(columns.labels.like(pattern, escape="\\"))
        with self.engine.connect() as conn:
            found = conn.execute(query.order_by(columns.name, columns.labels)).all()
        out = []
        for series_id, name, text_labels, kind, unit in found:
            labels = parse_canonical(text_labels)
            if selector.matches(name, labels):
                out.append(SeriesInfo(series_id, name, labels, MetricKind(kind), unit))
        return out

    def with_data_between(
        self, series: list[SeriesInfo], start: datetime, end: datetime
    ) -> list[SeriesInfo]:
        """Keep the series that have a sample, or a rollup bucket overlapping, in [start, end]."""
        has = " OR ".join(
            f"EXISTS (SELECT 1 FROM {table} WHERE series_id = s.id"
            f" AND {column} BETWEEN :lo - {early} AND :hi)"
            for table, column, early in DATA_SPANS
        )
        query = text(f"SELECT s.id FROM series s WHERE s.id IN :ids AND ({has})")
        query = query.bindparams(bindparam("ids", expanding=True))
        bounds = {"lo": int(start.timestamp() * 1000), "hi": int(end.timestamp() * 1000)}
        kept: set[int] = set()
        ids = [s.id for s in series]
        with self.engine.connect() as conn:
            for at in range(0, len(ids), 500):
                kept.update(conn.scalars(query, {"ids": ids[at : at + 500], **bounds}))
        return [s for s in series if s.id in kept]

    def query_range(
        self,
        selector: str | Selector,
        start: datetime,
        end: datetime,
        resolution: Resolution | str | None = Resolution.RAW,
        *,
        now: datetime | None = None,
    ) -> "pd.DataFrame":
        """Return points of matching series with ``start <= ts <= end``.

        Columns: ``series_id, name, labels`` (canonical JSON), ``ts`` (UTC), ``value``.
        ``resolution=None`` picks raw, 1m or 1h from the span and the retention (see
        ``models.vocabulary.resolution``). Rollup points have ``ts`` at the bucket start,
        ``value`` = the average, plus ``min, max, count, last`` columns.
        """
        if resolution is None:
            resolution = choose_resolution(
                start,
                end,
                now=now or datetime.now(UTC),
                raw_keep=self.raw_keep,
                minute_keep=self.minute_keep,
            )
        if Resolution(resolution) is Resolution.RAW:
            return self._frame(*self._raw(selector, start, end))
        series = self.find_series(selector)
        params = {"ids": [s.id for s in series], "start": _to_millis(start), "end": _to_millis(end)}
        query = text(
            "SELECT series_id, bucket_ms, avg_value, min_value, max_value, sample_count, "
            f"last_value FROM rollup_{resolution} WHERE series_id IN :ids "
            "AND bucket_ms BETWEEN :start AND :end ORDER BY series_id, bucket_ms"
        ).bindparams(bindparam("ids", expanding=True))
        return self._frame(series, query, params, extra=_ROLLUP_EXTRA)

    def latest(self, selector: str | Selector) -> "pd.DataFrame":
        """Return the newest sample of each matching series (same columns as query_range)."""
        return self._frame(*self._newest(selector))

    def range_points(self, selector: str | Selector, start: datetime, end: datetime) -> list[Point]:
        """Return the raw samples of matching series with ``start <= ts <= end``, as Points."""
        return self._points(*self._raw(selector, start, end))

    def latest_points(self, selector: str | Selector) -> list[Point]:
        """Return the newest sample of each matching series, as Points."""
        return self._points(*self._newest(selector))

    def _raw(self, selector: str | Selector, start: datetime, end: datetime) -> _Read:
        series = self.find_series(selector)
        params = {"ids": [s.id for s in series], "start": _to_millis(start), "end": _to_millis(end)}
        query = text(
            "SELECT series_id, ts_ms, value FROM sample WHERE series_id IN :ids "
            "AND ts_ms BETWEEN :start AND :end ORDER BY series_id, ts_ms"
        ).bindparams(bindparam("ids", expanding=True))
        return series, query, params

    def _newest(self, selector: str | Selector) -> _Read:
        series = self.find_series(selector)
        query = text(
            "SELECT s.series_id, s.ts_ms, s.value FROM sample s JOIN "
            "(SELECT series_id, MAX(ts_ms) AS ts_ms FROM sample WHERE series_id IN :ids "
            "GROUP BY series_id) newest USING (series_id, ts_ms) ORDER BY s.series_id"
        ).bindparams(bindparam("ids", expanding=True))
        return series, query, {"ids": [s.id for s in series]}

    def _rows(self, series: list[SeriesInfo], query: Any, params: dict) -> Sequence[Any]:
        if not series:
            return []
        with self.engine.connect() as conn:
            return conn.execute(query, params).all()

    def _points(self, series: list[SeriesInfo], query: Any, params: dict) -> list[Point]:
        by_id = {s.id: (s.name, canonical_labels(s.labels)) for s in series}
        return [
            Point(i, *by_id[i], ts_ms / 1000.0, float(value))
            for i, ts_ms, value in self._rows(series, query, params)
        ]

    def _frame(
        self, series: list[SeriesInfo], query: Any, params: dict, extra: tuple[str, ...] = ()
    ) -> "pd.DataFrame":
        # Imported here: writers (collect, push, checks) and the readers of Points never
        # build a frame, and pandas (with pyarrow) is most of a small process's memory.
        import pandas as pd

        columns = ["series_id", "ts_ms", "value", *extra]
        frame = pd.DataFrame(self._rows(series, query, params), columns=columns)
        by_id = {s.id: s for s in series}
        frame.insert(1, "name", [by_id[i].name for i in frame["series_id"]])
        frame.insert(2, "labels", [canonical_labels(by_id[i].labels) for i in frame["series_id"]])
        frame["ts"] = pd.to_datetime(frame.pop("ts_ms").astype("int64"), unit="ms", utc=True)
        for column in ("value", *extra):
            frame[column] = frame.pop(column).astype("int64" if column == "count" else "float64")
        return frame.astype({"series_id": "int64"})


_ROLLUP_EXTRA = ("min", "max", "count", "last")


def _make_room(cache: dict, arriving: int, limit: int) -> None:
    """Forget the oldest entries of ``cache`` so ``arriving`` more fit within ``limit``.

    At least a tenth goes at once, so a stream of new series evicts rarely, not per write.
    """
    excess = len(cache) + arriving - limit
    if excess <= 0:
        return
    for key in list(itertools.islice(cache, max(excess, limit // 10))):
        del cache[key]


def _parse_slowly(sample: Any) -> tuple[SeriesKey, int, float]:
    """Parse a sample the hot path could not, or raise ValueError saying what is wrong."""
    try:
        key = (sample.name, tuple(sample.labels.items()))
        return key, _to_millis(sample.ts), float(sample.value)
    except (TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(str(exc)) from exc


def _to_millis(ts: float | datetime) -> int:
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            raise ValueError("timestamp has no time zone; use an aware datetime (UTC)")
        return round(ts.timestamp() * 1000)
    return round(ts * 1000)


TS_RANGE_REASON = "timestamp is out of range (milliseconds since 1970 must fit in 64 bits)"


def one_line(exc: Exception) -> str:
    """The driver's message on one line (psycopg's span several)."""
    return " ".join(str(getattr(exc, "orig", exc)).split())


def _insert_samples(conn: Connection, rows: list[tuple[int, int, float]]) -> int:
    """Insert ``rows``, skipping instants already stored; return how many were inserted."""
    if conn.dialect.name == "sqlite":
        return conn.exec_driver_sql(
            "INSERT INTO sample (series_id, ts_ms, value) VALUES (?, ?, ?) "
            "ON CONFLICT (series_id, ts_ms) DO NOTHING",
            rows,
        ).rowcount
    return _copy_samples(conn, rows)


def _copy_samples(conn: Connection, rows: list[tuple[int, int, float]]) -> int:
    """COPY rows straight into ``sample``; on a duplicate, go through a staging table."""
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with conn.begin_nested(), raw.cursor() as cursor:
            _copy(cursor, "sample", rows)
        return len(rows)
    except UniqueViolation:
        pass
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sample_stage "
            "(series_id int, ts_ms bigint, value double precision) ON COMMIT DELETE ROWS"
        )
        _copy(cursor, "sample_stage", rows)
        cursor.execute(
            "INSERT INTO sample SELECT series_id, ts_ms, value FROM sample_stage "
            "ON CONFLICT (series_id, ts_ms) DO NOTHING"
        )
        return int(cursor.rowcount)


def _copy(cursor: Any, table: str, rows: list[tuple[int, int, float]]) -> None:
    with cursor.copy(f"COPY {table} (series_id, ts_ms, value) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "int8", "float8"])
        for row in rows:
            copy.write_row(row)


def is_unreachable(exc: BaseException) -> bool:
    """Say whether ``exc`` means the store is down or lost the connection (worth a retry)."""
    if isinstance(exc, OperationalError | InterfaceError | psycopg.OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
