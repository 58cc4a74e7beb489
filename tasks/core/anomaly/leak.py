"""Memory-leak signal: sustained growth of a process's resident set size (RSS)."""

from dataclasses import dataclass

import numpy as np

from tasks.core.anomaly.base import Detector

MIN_R2 = 0.8  # growth must be steady: a line explains most of the variation
MIN_GROWTH = 0.1  # and must add at least 10 % over the window
MIN_RISING_SHARE = 0.6  # and most smoothed steps must go up


@dataclass(frozen=True)
class LeakEstimate:
    """Slope in bytes per hour, fit quality and the verdict."""

    slope_bytes_per_hour: float
    r2: float
    growth: float
    is_leaking: bool


def leak_estimate(rss_bytes: np.ndarray, ts_seconds: np.ndarray) -> LeakEstimate:
    """Fit a line through RSS over time; a leak is steady, substantial, mostly-rising growth.

    >>> t = np.arange(100) * 60.0
    >>> leak_estimate(1e8 + 2e5 * np.arange(100), t).is_leaking
    True
    >>> leak_estimate(np.full(100, 1e8), t).is_leaking
    False
    """
    rss = np.asarray(rss_bytes, dtype=float)
    ts = np.asarray(ts_seconds, dtype=float)
    if len(rss) < 10 or np.ptp(ts) <= 0:
        return LeakEstimate(0.0, 0.0, 0.0, False)
    slope, intercept = np.polyfit(ts, rss, 1)
    fitted = intercept + slope * ts
    total = float(np.sum((rss - rss.mean()) ** 2))
    r2 = 1.0 - float(np.sum((rss - fitted) ** 2)) / total if total > 0 else 0.0
    start = max(float(fitted[0]), 1.0)
    growth = float(fitted[-1] - fitted[0]) / start
    smooth = np.convolve(rss, np.ones(5) / 5, mode="valid")
    rising = float(np.mean(np.diff(smooth) > 0)) if len(smooth) > 1 else 0.0
    is_leaking = slope > 0 and r2 >= MIN_R2 and growth >= MIN_GROWTH and rising >= MIN_RISING_SHARE
    return LeakEstimate(float(slope * 3600), r2, growth, bool(is_leaking))


class MemoryLeak(Detector):
    """Online leak score: fit quality x relative growth over the last two seasons.

    Two seasons, so the rising half of a daily cycle does not look like a leak; rows
    before a full window score 0.
    """

    name = "memory_leak"

    def _score(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(values))
        t = np.arange(len(values), dtype=float)
        window = 2 * self.period
        for i in range(window - 1, len(values)):
            est = leak_estimate(values[i + 1 - window : i + 1], t[i + 1 - window : i + 1])
            out[i] = max(est.r2, 0.0) * min(max(est.growth, 0.0) / MIN_GROWTH, 1.0)
        return out
