"""Sweep alerts on a schedule: what changes with time alone (the fast path is on each write)."""

import time
from dataclasses import asdict

from prefect import flow

from models.config import load_config
from models.db import make_engine
from models.settings import get_settings
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.alerting.subscribe import reactions
from tasks.alerting.sweep import sweep_alerts


@flow(name="alert-sweep")
def alert_sweep(window_seconds: float = 0.0, every_seconds: float = 15.0) -> dict:
    """Absence, pending expiry, keep-firing-for, stale series, repeats, escalation, outbox.

    One run sweeps every ``every_seconds`` for ``window_seconds`` (0: a single sweep), so
    the run history stays readable; returns the totals of its sweeps. The config and the
    store are the serving process's (``VIGIL_CONFIG_PATH``, ``VIGIL_DATABASE_URL``).
    """
    settings = get_settings()
    config = load_config(settings.config_path)
    db = make_engine(settings.database_url)
    began = time.monotonic()
    totals: dict = {"sweeps": 0}
    try:
        plan = build_plan(config)
        engine = AlertEngine(db, plan, store=MetricStore(db), **reactions(config, db, plan))
        while True:
            _add(totals, asdict(sweep_alerts(engine, time.time())))
            totals["sweeps"] += 1
            next_at = began + totals["sweeps"] * every_seconds
            if next_at > began + window_seconds:
                break
            time.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        db.dispose()
    return totals


def _add(totals: dict, report: dict) -> None:
    """Add the counts of one sweep's report into ``totals`` (nested dicts alike)."""
    for key, value in report.items():
        if isinstance(value, dict):
            _add(totals.setdefault(key, {}), value)
        elif isinstance(value, int | float):
            totals[key] = totals.get(key, 0) + value
