"""Sweep alerts on a schedule: what changes with time alone (the fast path is on each write)."""

from datetime import UTC, datetime

from prefect import flow

from models.config import load_config
from models.settings import get_settings
from tasks.alerting.sweep import on_the_clock, sweep_at
from tasks.core.alerting.sweep_schedule import sweep_times
from tasks.store.flow_timing import timed_run


@flow(name="alert-sweep")
@timed_run("alert-sweep")
def alert_sweep(window_seconds: float = 0.0, every_seconds: float = 15.0) -> dict:
    """Absence, pending expiry, keep-firing-for, stale series, repeats, escalation, outbox.

    One run sweeps every ``every_seconds`` for ``window_seconds`` (0: a single sweep), so
    the run history stays readable; returns the totals of its sweeps. The config and the
    store are the serving process's (``VIGIL_CONFIG_PATH``, ``VIGIL_DATABASE_URL``), and the
    time is the clock's.
    """
    settings = get_settings()
    config = load_config(settings.config_path)
    schedule = sweep_times(datetime.now(UTC), window_seconds, every_seconds)
    return sweep_at(config, settings.database_url, on_the_clock(schedule))
