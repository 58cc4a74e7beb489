"""Find a series' seasonality (daily, weekly or none) from its autocorrelation."""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

DAY_S = 86_400
MIN_ACF = 0.3  # weaker seasonal correlation than this is noise for forecasting purposes


class Seasonality(StrEnum):
    """Which cycle repeats in a series."""

    NONE = "none"  # no repeating cycle found
    DAILY = "daily"  # the same shape every day
    WEEKLY = "weekly"  # the same shape every week (weekdays differ from weekends)


@dataclass(frozen=True)
class SeasonalFit:
    """The seasonality found and its period in rows (1 when there is none)."""

    kind: Seasonality
    period: int
    strength: float


def autocorrelation(values: np.ndarray, lag: int) -> float:
    """Correlation between the series and itself ``lag`` rows later (0 if undefined).

    >>> round(autocorrelation(np.sin(np.arange(200) * 2 * np.pi / 20), 20), 2)
    1.0
    """
    if lag <= 0 or lag >= len(values) - 2:
        return 0.0
    a, b = values[:-lag], values[lag:]
    if np.std(a) == 0 or np.std(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def detrended(values: np.ndarray, period: int) -> np.ndarray:
    """Subtract a trailing moving average one period long, so trends do not look seasonal."""
    kernel = np.ones(period) / period
    trend = np.convolve(values, kernel, mode="valid")
    return values[period - 1 :] - trend


def detect_seasonality(values: np.ndarray, step_seconds: float) -> SeasonalFit:
    """Pick weekly, daily or no seasonality; each needs three full cycles of data."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    day = max(round(DAY_S / step_seconds), 1)
    best = SeasonalFit(Seasonality.NONE, 1, 0.0)
    for kind, period in ((Seasonality.DAILY, day), (Seasonality.WEEKLY, 7 * day)):
        if period < 2 or len(values) < 3 * period:
            continue
        strength = autocorrelation(detrended(values, period), period)
        if strength >= MIN_ACF and strength > best.strength + 0.1:
            best = SeasonalFit(kind, period, strength)
    return best
