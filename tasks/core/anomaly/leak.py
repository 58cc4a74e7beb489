"""Memory-leak signal: sustained growth of a process's resident set size (RSS)."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
    before a full window score 0. The line through each window comes from rolling
    moments (r2 = squared correlation), so a week of 10 s samples scores in a second.
    """

    name = "memory_leak"

    def _score(self, values: np.ndarray) -> np.ndarray:
        window = 2 * self.period
        rss = pd.Series(values)
        t = pd.Series(np.arange(len(values), dtype=float))
        cov = t.rolling(window).cov(rss)
        var_rss = rss.rolling(window).var()
        var_t = (window**2 - 1) / 12.0  # variance of window consecutive row numbers
        r2 = (cov**2 / (var_t * var_rss)).where(var_rss > 0, 0.0)
        slope = cov / var_t
        start = rss.rolling(window).mean() - slope * (window - 1) / 2  # fitted first value
        growth = slope * (window - 1) / np.maximum(start, 1.0)
        score = r2.clip(lower=0.0) * (growth.clip(lower=0.0) / MIN_GROWTH).clip(upper=1.0)
        return score.fillna(0.0).to_numpy()
