"""Read what an SLO is made of: a check's results or its good and total counters."""

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlmodel import col

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
    """``(epoch seconds, status)`` of ``check`` within the span, plus the one holding at its start."""
    begin, finish = _utc(start), _utc(end)
    table = CheckResult.__table__  # type: ignore[attr-defined]
    holding = select(func.max(table.c.at)).where(
        table.c.check == check, table.c.at < begin, table.c.status != "late"
    )
    query = (
        select(col(CheckResult.at), col(CheckResult.status))
        .where(col(CheckResult.check) == check, col(CheckResult.at) <= finish)
        .where((col(CheckResult.at) >= begin) | (col(CheckResult.at) == holding.scalar_subquery()))
        .order_by(col(CheckResult.at))
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(_epoch(at), status) for at, status in rows if status != "late"]


def counter_points(
    store: MetricStore, selector: str, start: float, end: float
) -> list[list[tuple[float, float]]]:
    """Each matching counter's ``(epoch seconds, value)`` points within the span."""
    frame = store.query_range(selector, _utc(start), _utc(end))
    out = []
    for _, points in frame.groupby("series_id", sort=True):
        stamps = points["ts"].astype("int64") / 1e9
        out.append(list(zip(stamps.tolist(), points["value"].tolist(), strict=True)))
    return out


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
