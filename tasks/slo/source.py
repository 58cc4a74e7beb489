"""Read what an SLO is made of: a check's results or its good and total counters."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, text

from models.checks import CheckResult
from models.config.slo import Slo
from models.store import MetricStore
from tasks.core.slo.budget import BurnPair, Objective
from tasks.core.slo.timeline import CounterTimeline, StateTimeline, Timeline


def objective_of(slo: Slo) -> Objective:
    """The SLO's numbers: target as a share, windows in seconds."""
    pairs = tuple(
        BurnPair(a.name, a.long.total_seconds(), a.short.total_seconds(), a.factor)
        for a in slo.alerts
    )
    return Objective(slo.name, slo.target / 100, slo.window.total_seconds(), pairs)


def load_timeline(store: MetricStore, slo: Slo, start: float, end: float) -> Timeline:
    """The SLO's good and total amounts between ``start`` and ``end`` (epoch seconds)."""
    if slo.check is not None:
        return StateTimeline(check_results(store.engine, slo.check, start, end), end=end)
    assert slo.good is not None and slo.total is not None
    return CounterTimeline(
        counter_points(store, slo.good, start, end), counter_points(store, slo.total, start, end)
    )


def check_results(engine: Engine, check: str, start: float, end: float) -> list[tuple[float, str]]:
    """``(epoch seconds, status)`` of ``check`` in the span, plus the one holding at its start."""
    begin, finish = _utc(start), _utc(end)
    table = CheckResult.__table__  # type: ignore[attr-defined]
    holding = select(func.max(table.c.at)).where(
        table.c.check == check, table.c.at < begin, table.c.status != "late"
    )
    query = (
        select(epoch_of(engine, table.c.at), table.c.status)
        .where(table.c.check == check, table.c.at <= finish)
        .where((table.c.at >= begin) | (table.c.at == holding.scalar_subquery()))
        .order_by(table.c.at)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(round(float(at), 3), status) for at, status in rows if status != "late"]


def epoch_of(bind: Engine | Connection, column: Any) -> Any:
    """SQL for a timestamp column as epoch seconds, computed by the database (no datetime
    object per row: a month of results reads several times faster)."""
    if bind.dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.extract("epoch", column)


def counter_points(
    store: MetricStore, selector: str, start: float, end: float
) -> list[list[tuple[float, float]]]:
    """Each matching counter's ``(epoch seconds, value)`` points within the span.

    Raw samples where they are still kept; before a series' oldest raw sample, the last
    value of each hourly rollup (raw samples are kept for days, an SLO window is weeks).
    """
    ids = [s.id for s in store.find_series(selector)]
    if not ids:
        return []
    span = {"ids": ids, "start": round(start * 1000), "end": round(end * 1000)}
    with store.engine.connect() as conn:
        raw = conn.execute(_RAW, span).all()
        hourly = conn.execute(_HOURLY, span).all()
    points: dict[int, list[tuple[float, float]]] = {i: [] for i in ids}
    for series_id, ts_ms, value in raw:
        points[series_id].append((ts_ms / 1000, value))
    first_raw = {i: p[0][0] if p else float("inf") for i, p in points.items()}
    for series_id, ts_ms, value in hourly:
        if ts_ms / 1000 < first_raw[series_id]:
            points[series_id].append((ts_ms / 1000, value))
    return [sorted(p) for p in points.values() if p]


_RAW = text(
    "SELECT series_id, ts_ms, value FROM sample WHERE series_id IN :ids "
    "AND ts_ms BETWEEN :start AND :end ORDER BY series_id, ts_ms"
).bindparams(bindparam("ids", expanding=True))
_HOURLY = text(
    "SELECT series_id, last_ts_ms, last_value FROM rollup_1h WHERE series_id IN :ids "
    "AND last_ts_ms BETWEEN :start AND :end ORDER BY series_id, last_ts_ms"
).bindparams(bindparam("ids", expanding=True))


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
