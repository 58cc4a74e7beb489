"""The sweep as a Prefect task: time-driven transitions, group timers, escalation, retries."""

from prefect import task
from prefect.cache_policies import NONE

from tasks.alerting.engine import AlertEngine, SweepReport


@task(cache_policy=NONE)
def sweep_alerts(engine: AlertEngine, now: float) -> SweepReport:
    """Run one sweep of ``engine`` at ``now`` (epoch seconds)."""
    return engine.sweep(now)
