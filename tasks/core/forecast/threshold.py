"""When will a series cross a threshold, and how likely is it within the forecast horizon?"""

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from tasks.core.forecast.base import Z95


@dataclass(frozen=True)
class ThresholdEstimate:
    """Expected crossing time (None: the point forecast never crosses) and its probability.

    ``probability`` is the chance the series is past the threshold at some step of the
    horizon, from the forecast's 95 % interval read as a normal distribution.
    """

    threshold: float
    crossing_at: datetime | None
    seconds_to_crossing: float | None
    probability: float


def normal_tail(z: np.ndarray) -> np.ndarray:
    """P(Z > z) for a standard normal.

    >>> [round(float(p), 3) for p in normal_tail(np.array([0.0, 1.959964]))]
    [0.5, 0.025]
    """
    return 0.5 * np.vectorize(math.erfc)(z / math.sqrt(2.0))


def time_to_threshold(
    forecast: pd.DataFrame, threshold: float, *, now: datetime, above: bool = True
) -> ThresholdEstimate:
    """Read a forecast frame (ts, yhat, lower, upper) for the first crossing of ``threshold``.

    ``above`` is True for "rises to" (disk usage) and False for "falls to" (free bytes).
    """
    sign = 1.0 if above else -1.0
    yhat = forecast["yhat"].to_numpy(dtype=float)
    sigma = (forecast["upper"].to_numpy(dtype=float) - yhat) / Z95
    gap = sign * (threshold - yhat)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, gap / sigma, np.where(gap <= 0, -np.inf, np.inf))
    probability = float(np.max(normal_tail(z))) if len(z) else 0.0
    crossed = np.flatnonzero(gap <= 0)
    if not len(crossed):
        return ThresholdEstimate(threshold, None, None, probability)
    at = pd.Timestamp(forecast["ts"].iloc[int(crossed[0])]).to_pydatetime()
    return ThresholdEstimate(threshold, at, (at - now).total_seconds(), probability)
