"""Uptime per check and per target over 24 h, 7 d and 30 d, with the outages that spent it.

Reads only each check's bad results in the span (an index of its own keeps them apart
from the good ones), the result holding at the span's start, the first result in it and
the up result that ended each outage: a month of minute-by-minute results is never read.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, Select, bindparam, func, select, text

from models.checks import CheckResult, CheckStateRecord
from tasks.core.slo.timeline import BAD_STATES
from tasks.core.slo.uptime import Outage, merged, uptime_share, within
from tasks.slo.source import epoch_of

SPANS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
R = CheckResult.__table__  # type: ignore[attr-defined]
STATE = CheckStateRecord.__table__  # type: ignore[attr-defined]


def uptime_report(engine: Engine, now: datetime, spans: dict[str, timedelta] = SPANS) -> dict:
    """``{"checks": [...], "targets": [...]}``: per row ``name`` (checks also ``target``),
    each span's uptime share (``None``: no result yet) and ``outages`` ``[(start, end)]``
    (epoch seconds) of the longest span.
    """
    end = now.timestamp()
    start = end - max(spans.values()).total_seconds()
    with engine.connect() as conn:
        checks = _known_checks(conn)
        observed = {check: _observed_from(conn, check, start) for check in checks}
        outages = _outages(conn, start, end)
    rows = [
        _row(check, outages.get(check, []), observed[check], end, spans, target=target)
        for check, target in sorted(checks.items())
    ]
    by_target: dict[str, list[str]] = defaultdict(list)
    for check, target in checks.items():
        by_target[target].append(check)
    targets = []
    for target, names in sorted(by_target.items()):
        firsts = [first for n in names if (first := observed[n]) is not None]
        union = merged(o for n in names for o in outages.get(n, []))
        targets.append(_row(target, union, min(firsts, default=None), end, spans))
    return {"checks": rows, "targets": targets}


def _row(name, outages, observed_from, end, spans, **extra) -> dict:  # type: ignore[no-untyped-def]
    longest = max(spans.values()).total_seconds()
    shares = {
        label: uptime_share(outages, end - span.total_seconds(), end, observed_from)
        for label, span in spans.items()
    }
    kept = within(outages, end - longest, end)
    return {"name": name, **extra, **shares, "outages": [(o.start, o.end) for o in kept]}


def _known_checks(conn: Connection) -> dict[str, str]:
    """Every check that ever ran: its target."""
    return {check: target for check, target in conn.execute(select(STATE.c.check, STATE.c.target))}


def _observed_from(conn: Connection, check: str, start: float) -> float | None:
    """Where the span's observed part begins: its start if a result holds there, else the
    first result in it (None: no result at all)."""
    holding = conn.execute(_HOLDING, {"check": check, "at": _dt(start)}).scalar()
    if holding is not None:
        return start
    value = conn.execute(_first(conn), {"check": check}).scalar()
    return _ms(value) if value is not None else None


# Built once: a statement's construction costs as much as running it on an index.
_HOLDING = select(func.max(R.c.at)).where(
    R.c.check == bindparam("check"), R.c.at <= bindparam("at", type_=R.c.at.type)
)
_STATEMENTS: dict[tuple[str, str], Select] = {}


def _first(conn: Connection) -> Select:
    key = ("first", conn.dialect.name)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = select(epoch_of(conn, func.min(R.c.at))).where(
            R.c.check == bindparam("check")
        )
    return _STATEMENTS[key]


def _next_up_query(conn: Connection) -> Select:
    key = ("next_up", conn.dialect.name)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = select(epoch_of(conn, func.min(R.c.at))).where(
            R.c.check == bindparam("check"),
            R.c.at > bindparam("after", type_=R.c.at.type),
            R.c.status == "up",
        )
    return _STATEMENTS[key]


def _outages(conn: Connection, start: float, end: float) -> dict[str, list[Outage]]:
    """Each check's outages reaching into ``[start, end)``."""
    bad = select(R.c.check, epoch_of(conn, R.c.at), R.c.status).where(
        text("status != 'up'"),  # literal, so SQLite uses the partial index
        R.c.at > _dt(start),
    )
    rows = [(c, _ms(at), s) for c, at, s in conn.execute(bad.order_by(R.c.check, R.c.at))]
    for check, at in _bad_at_start(conn, start):
        rows.append((check, at, "down"))
    rows.sort()
    found: dict[str, list[Outage]] = defaultdict(list)
    for check, at, status in rows:
        if status not in BAD_STATES:
            continue
        runs = found[check]
        if runs and at < runs[-1].end:
            continue  # still the same outage: no up result came in between
        runs.append(Outage(at, _next_up(conn, check, at, end)))
    return dict(found)


def _bad_at_start(conn: Connection, start: float) -> list[tuple[str, float]]:
    """Checks whose result holding at ``start`` is bad (their outage began before it)."""
    newest = (
        select(R.c.check, func.max(R.c.at).label("at"))
        .where(R.c.at <= _dt(start), R.c.status != "late")
        .group_by(R.c.check)
        .subquery()
    )
    query = select(R.c.check, R.c.status).join(
        newest, (R.c.check == newest.c.check) & (R.c.at == newest.c.at)
    )
    return [(check, start) for check, status in conn.execute(query) if status in BAD_STATES]


def _next_up(conn: Connection, check: str, after: float, end: float) -> float:
    up = conn.execute(_next_up_query(conn), {"check": check, "after": _dt(after)}).scalar()
    return min(_ms(up), end) if up is not None else end


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _ms(epoch: object) -> float:
    """Epoch seconds from the store, to the millisecond (SQLite's julianday is a double)."""
    return round(float(epoch), 3)  # type: ignore[arg-type]
