"""Seeded synthetic series with known answers for analytics tests."""

import numpy as np
import pandas as pd

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
