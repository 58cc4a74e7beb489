"""SLO fixtures: a migrated SQLite store, an alert engine listening to what SLOs write."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from models.checks import CheckResult
from models.config import parse_config
from models.config.root import VigilConfig
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'slo.db'}"
    upgrade(url)
    return url


@pytest.fixture
def slo_site(sqlite_url: str) -> Iterator[Callable[[str], tuple[VigilConfig, AlertEngine]]]:
    """Build (config, alert engine) from vigil.yaml text on the migrated SQLite store."""
    made: list[AlertEngine] = []

    def make(yaml_text: str) -> tuple[VigilConfig, AlertEngine]:
        config = parse_config(yaml_text)
        db = make_engine(sqlite_url)
        engine = AlertEngine(db, build_plan(config), store=MetricStore(db), emit=None)
        made.append(engine)
        return config, engine

    yield make
    for engine in made:
        engine.outbox.stop()
        engine.db.dispose()


def store_results(store: MetricStore, check: str, target: str, results: list[tuple[float, str]]):  # type: ignore[no-untyped-def]
    """Insert check results ``(epoch seconds, status)`` as the checks runner stores them."""
    rows = [
        {
            "check": check,
            "target": target,
            "component": check,
            "at": datetime.fromtimestamp(at, UTC),
            "status": status,
            "is_hard": status != "up",
            "attempt": 0 if status == "up" else 1,
            "tries": 1,
            "latency_ms": 5.0,
            "message": status,
        }
        for at, status in results
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(CheckResult.__table__), rows)  # type: ignore[attr-defined]
