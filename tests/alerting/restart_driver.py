"""Drive an alert engine in a process of its own, for the restart test.

``python -m tests.alerting.restart_driver DB_URL CONFIG_PATH before|after``: ``before``
brings ApiDown to firing, escalated (its lead page waiting in the outbox) and acknowledged,
and Slow to pending; ``after`` sweeps on for 40 minutes. Each ends with ``os._exit``: no
cleanup, as if the process died.
"""

import os
import sys
from pathlib import Path

from models.config import parse_config
from models.db import make_engine
from models.store import MetricStore
from tasks.alerting import store as repo
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tests.alerting.helpers import T0, write

MINUTE = 60


def before(engine: AlertEngine) -> None:
    write(engine, T0, [("api_up", {"target": "api"}, 0.0)])
    for minute in range(1, 16):
        engine.sweep(T0 + minute * MINUTE + 1)
    with engine.db.begin() as conn:
        repo.acknowledge(conn, "1", "ana", "on it", T0 + 16 * MINUTE, expires_at=T0 + 60 * MINUTE)
    write(engine, T0 + 20 * MINUTE, [("latency_seconds", {"target": "web"}, 3.0)])
    engine.sweep(T0 + 20 * MINUTE + 1)


def after(engine: AlertEngine) -> None:
    for minute in range(21, 62):
        engine.sweep(T0 + minute * MINUTE + 1)


if __name__ == "__main__":
    db_url, config_path, phase = sys.argv[1:4]
    db = make_engine(db_url)
    plan = build_plan(parse_config(Path(config_path).read_text()))
    {"before": before, "after": after}[phase](
        AlertEngine(db, plan, store=MetricStore(db), emit=None)
    )
    os._exit(0)
