"""Uptime per check and per target over 24 h, 7 d and 30 d, with the outages that spent it.

Only a check's state changes are read (SQL window function ``LAG``), so a month of
minute-by-minute results costs one indexed scan, not a Python loop per result.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, or_, select

from models.checks import CheckResult
from tasks.core.slo.uptime import Uptime, target_states, uptime

SPANS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
_RESULT = CheckResult.__table__  # type: ignore[attr-defined]


def state_changes(
    engine: Engine, start: datetime, end: datetime
) -> dict[tuple[str, str], list[tuple[float, str]]]:
    """``(check, target) -> [(epoch seconds, status)]`` at each change within the span."""
    t = _RESULT
    previous = func.lag(t.c.status).over(partition_by=t.c.check, order_by=t.c.at).label("prev")
    inner = (
        select(t.c.check, t.c.target, t.c.at, t.c.status, previous)
        .where(t.c.at >= start, t.c.at <= end, t.c.status != "late")
        .subquery()
    )
    query = (
        select(inner.c.check, inner.c.target, inner.c.at, inner.c.status)
        .where(or_(inner.c.prev.is_(None), inner.c.prev != inner.c.status))
        .order_by(inner.c.check, inner.c.at)
    )
    changes: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    with engine.connect() as conn:
        for check, target, at, status in conn.execute(query):
            stamp = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
            changes[(check, target)].append((stamp, status))
    return dict(changes)


def uptime_report(engine: Engine, now: datetime, spans: dict[str, timedelta] = SPANS) -> dict:
    """``{"checks": [...], "targets": [...]}``: per row ``name`` (and ``target``), each span's
    uptime share (``None``: no data) and the outages of the longest span.
    """
    longest = max(spans.values())
    changes = state_changes(engine, now - longest, now)
    by_target: dict[str, dict[str, list[tuple[float, str]]]] = defaultdict(dict)
    for (check, target), states in changes.items():
        by_target[target][check] = states
    checks = [
        _row(check, states, now, spans, target=target)
        for (check, target), states in sorted(changes.items())
    ]
    targets = [
        _row(target, target_states(states), now, spans)
        for target, states in sorted(by_target.items())
    ]
    return {"checks": checks, "targets": targets}


def _row(name: str, states, now: datetime, spans: dict[str, timedelta], **extra) -> dict:  # type: ignore[no-untyped-def]
    end = now.timestamp()
    figures: dict[str, Uptime] = {
        label: uptime(states, end - span.total_seconds(), end) for label, span in spans.items()
    }
    longest = max(spans, key=lambda label: spans[label])
    return {
        "name": name,
        **extra,
        **{label: figure.share for label, figure in figures.items()},
        "outages": [(o.start, o.end) for o in figures[longest].outages],
    }
