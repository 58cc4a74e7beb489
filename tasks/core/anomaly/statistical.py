"""Statistical detectors: robust z on the seasonal residual, seasonal hybrid ESD, CUSUM."""

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from tasks.core.anomaly.base import Detector
from tasks.core.anomaly.online import (
    keep_new_highs,
    seasonal_difference,
    squash,
    trailing_mean,
    trailing_robust_z,
)

Z_SCALE = 20.0  # a robust z of 20 maps to 0.63: NAB's real series have heavy tails
LEVEL_ROWS = 6  # rows averaged to see a level shift through noise (30 min of 5-min data)


def point_surprise(values: np.ndarray, period: int) -> np.ndarray:
    """Robust z of each value against the last two seasons."""
    return trailing_robust_z(values, 2 * period)


def level_surprise(values: np.ndarray, period: int) -> np.ndarray:
    """Robust z of the recent mean against the six seasons before it (x2: it is averaged)."""
    return 2.0 * trailing_robust_z(trailing_mean(values, LEVEL_ROWS), 6 * period, lag=LEVEL_ROWS)


def seasonal_surprise(values: np.ndarray, period: int) -> np.ndarray:
    """Robust z of the seasonal residual (x_i - x_{i-period}) against two seasons of residuals."""
    return trailing_robust_z(seasonal_difference(values, period), 2 * period)


class RobustZ(Detector):
    """Robust z-score of the seasonal residual; one alarm per event."""

    name = "robust_z"

    def _score(self, values: np.ndarray) -> np.ndarray:
        raw = np.maximum(
            seasonal_surprise(values, self.period), point_surprise(values, self.period)
        )
        return squash(keep_new_highs(raw, self.period), Z_SCALE)


class SeasonalESD(Detector):
    """Seasonal hybrid ESD, online: each residual's Grubbs statistic over its critical value.

    The residual is the value minus the median of the same phase in up to three earlier
    seasons; the statistic uses the median/MAD of the last season of residuals.
    """

    name = "seasonal_esd"
    alpha = 0.001

    def _score(self, values: np.ndarray) -> np.ndarray:
        residual = values - same_phase_median(values, self.period)
        n = self.period
        t = stats.t.ppf(1 - self.alpha / (2 * n), n - 2)
        critical = (n - 1) * t / np.sqrt(n * (n - 2 + t**2))
        statistic = trailing_robust_z(residual, n)
        return squash(keep_new_highs(statistic / critical, self.period), 2.0)


def same_phase_median(values: np.ndarray, period: int, seasons: int = 3) -> np.ndarray:
    """Median of the values 1..``seasons`` periods earlier (the trailing value when none)."""
    stacked = [
        np.r_[np.full(k * period, np.nan), values[: -k * period]] for k in range(1, seasons + 1)
    ]
    stacked = [s[: len(values)] for s in stacked]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: no earlier season yet
        median = np.nanmedian(np.vstack(stacked), axis=0)
    previous = np.r_[values[:1], values[:-1]]
    return np.where(np.isfinite(median), median, previous)


class Cusum(Detector):
    """Two-sided CUSUM of the robustly standardised seasonal residual: level shifts, drifts.

    Sums standardised deviations beyond a slack of ``k`` and restarts after each alarm
    (sum above ``h``), so one shift is one alarm.
    """

    name = "cusum"
    k = 1.0
    h = 8.0

    def _score(self, values: np.ndarray) -> np.ndarray:
        z = signed_z(values - same_phase_median(values, self.period), 2 * self.period)
        high = low = 0.0
        out = np.zeros(len(z))
        for i, zi in enumerate(z):
            high, low = max(0.0, high + zi - self.k), max(0.0, low - zi - self.k)
            out[i] = max(high, low) / (2 * self.h)
            if high > self.h or low > self.h:
                high = low = 0.0
        return out


def signed_z(values: np.ndarray, window: int) -> np.ndarray:
    """Signed robust z against the trailing window, clipped to +-10 so a spike is not a shift."""
    magnitude = trailing_robust_z(values, window)
    median = pd.Series(values).shift(1).rolling(window, min_periods=1).median().to_numpy()
    sign = np.sign(values - np.nan_to_num(median, nan=values[0]))
    return np.clip(sign * magnitude, -10.0, 10.0)


class Ensemble(Detector):
    """The largest of point, level and seasonal surprise (the default before ``contextual``).

    One alarm per event (a score must beat the last season's scores).
    """

    name = "ensemble"

    def _score(self, values: np.ndarray) -> np.ndarray:
        raw = np.maximum.reduce(
            [
                point_surprise(values, self.period),
                level_surprise(values, self.period),
                seasonal_surprise(values, self.period),
            ]
        )
        return squash(keep_new_highs(raw, self.period), Z_SCALE)
