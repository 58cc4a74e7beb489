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
from tasks.alerting.sweep import sweep_alerts


@flow(name="alert-sweep")
def alert_sweep(config_path: str | None = None, db_url: str | None = None) -> dict:
    """Absence, pending expiry, keep-firing-for, stale series, repeats, escalation, outbox.

    Schedule it every 15 to 30 s; it is cheap when nothing is due.
    """
    settings = get_settings()
    config = load_config(config_path or settings.config_path)
    db = make_engine(db_url or settings.database_url)
    try:
        engine = AlertEngine(db, build_plan(config), store=MetricStore(db))
        report = sweep_alerts(engine, time.time())
    finally:
        db.dispose()
    return asdict(report)
