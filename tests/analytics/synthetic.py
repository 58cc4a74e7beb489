"""Seeded synthetic series with known answers for analytics tests."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from models.store import MetricStore, NewSample

DAY = 288  # rows per day at a 5-minute step


def frame(values: np.ndarray, step_minutes: int = 5) -> pd.DataFrame:
    """A ts/value frame starting 2026-01-01 UTC."""
    ts = pd.date_range("2026-01-01", periods=len(values), freq=f"{step_minutes}min", tz="UTC")
    return pd.DataFrame({"ts": ts, "value": np.asarray(values, dtype=float)})


def daily(days: float = 4, noise: float = 0.3, seed: int = 0) -> np.ndarray:
    """A daily sine (amplitude 10 around 50) plus Gaussian noise."""
    n = int(days * DAY)
    rng = np.random.default_rng(seed)
    return 50 + 10 * np.sin(np.arange(n) * 2 * np.pi / DAY) + rng.normal(0, noise, n)


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
