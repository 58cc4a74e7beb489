from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from synthetic import DAY, daily

from models.config.analytics import AnalyticsConfig
from models.db import make_engine
from models.store import MetricStore, NewSample

START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 3


def seed_series(store: MetricStore) -> datetime:
    """A seasonal CPU series with a spike and a rising disk series; return the last timestamp."""
    n = DAYS * DAY
    cpu = daily(days=DAYS, noise=1.0, seed=7)
    cpu[n - 20] += 40
    disk = 0.4 + 0.0004 * np.arange(n) + np.random.default_rng(8).normal(0, 0.002, n)
    ts = [START + timedelta(minutes=5 * i) for i in range(n)]
    samples = [
        NewSample("cpu_busy_ratio", {"host": "web-1"}, t, v) for t, v in zip(ts, cpu, strict=True)
    ]
    samples += [
        NewSample("disk_used_ratio", {"host": "web-1", "mount": "/"}, t, v)
        for t, v in zip(ts, disk, strict=True)
    ]
    assert not store.write(samples).rejected
    return ts[-1]


@pytest.fixture
def seeded(db_url):  # type: ignore[no-untyped-def]
    """A migrated store with two series, the analytics config that watches them, and 'now'."""
    engine = make_engine(db_url)
    now = seed_series(MetricStore(engine)) + timedelta(minutes=1)
    config = AnalyticsConfig(
        series=["cpu_busy_ratio", "disk_used_ratio"],
        horizon=timedelta(hours=2),
        models=["seasonal_profile", "linear_trend", "ets"],
    )
    yield db_url, config, now
    engine.dispose()
