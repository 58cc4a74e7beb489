"""The sweep as a Prefect task, and a run of sweeps: one clock read per sweep, passed down."""

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime

from prefect import task
from prefect.cache_policies import NONE

from models.config.root import VigilConfig
from models.db import make_engine
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine, SweepReport
from tasks.alerting.plan import build_plan
from tasks.alerting.subscribe import reactions
from tasks.core.alerting.sweep_schedule import add_counts


@task(cache_policy=NONE)
def sweep_alerts(engine: AlertEngine, now: datetime) -> SweepReport:
    """Run one sweep of ``engine`` at ``now`` (an aware UTC time)."""
    return engine.sweep(now.timestamp())


def sweep_at(config: VigilConfig, database_url: str, times: Iterable[datetime]) -> dict:
    """Sweep ``config``'s alerts once at each of ``times``; return the totals of the sweeps."""
    db = make_engine(database_url)
    totals: dict = {"sweeps": 0}
    try:
        plan = build_plan(config)
        engine = AlertEngine(db, plan, store=MetricStore(db), **reactions(config, db, plan))
        for now in times:
            totals = add_counts(totals, {"sweeps": 1, **asdict(sweep_alerts(engine, now))})
    finally:
        db.dispose()
    return totals


def on_the_clock(schedule: list[datetime]) -> Iterator[datetime]:
    """Wait for each moment of ``schedule`` and yield the clock's time then: the one read
    each sweep goes by (the waits are paced on the monotonic clock)."""
    began = time.monotonic()
    for due in schedule:
        time.sleep(max(0.0, began + (due - schedule[0]).total_seconds() - time.monotonic()))
        yield datetime.now(UTC)
