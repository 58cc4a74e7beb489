"""Data probes: SQL queries against a database URL, and conditions on stored series."""

from datetime import datetime

from sqlalchemy import text

from models.config.checks import MetricCheck, SqlCheck
from models.errors import ProbeError
from tasks.checks.context import Observation, ProbeContext
from tasks.core.checks.assertions import judge_series, judge_value


async def probe_sql(check: SqlCheck, ctx: ProbeContext, now: datetime) -> Observation:
    """Run the query and compare the first column of its first row with ``expect``.

    The query runs in a worker thread; at the timeout the check fails, while the thread
    finishes on its own (database drivers cannot be interrupted safely from outside).
    """
    value = await ctx.blocking(_first_value, ctx, check.url, check.query)
    return judge_value(value, check.expect), f"query returned {value!r}"


def _first_value(ctx: ProbeContext, url: str, query: str) -> object:
    with ctx.engine(url).connect() as conn:
        row = conn.execute(text(query)).first()
    return None if row is None else row[0]


async def probe_metric(check: MetricCheck, ctx: ProbeContext, now: datetime) -> Observation:
    """Judge the newest sample of every series the selector matches."""
    if ctx.store is None:
        raise ProbeError("metric checks need the metric store; none was given")
    frame = await ctx.blocking(ctx.store.latest, check.selector)
    latest = [
        (labels, ts.to_pydatetime(), float(value))
        for labels, ts, value in zip(frame["labels"], frame["ts"], frame["value"], strict=True)
    ]
    problems = judge_series(
        latest,
        op=check.op,
        threshold=check.value,
        max_age_s=check.max_age.total_seconds(),
        now=now,
    )
    return problems, f"{len(latest)} series satisfy {check.op} {check.value:g}"
