"""k-NN conformal detection (in the spirit of NAB's KNN CAD) and a blend of detectors.

A row's window is its last ``width`` values. Its nonconformity is the mean distance to
its ``neighbours`` nearest windows among the previous ``history`` seasons (windows that
overlap it excluded). The score is the conformal rank of that nonconformity among the
nonconformities of the previous ``history`` seasons: 1 when it is the largest seen.
Ranks make it scale-free (a series times c scores the same), online and deterministic.
"""

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tasks.core.anomaly.base import Detector
from tasks.core.anomaly.contextual import rest_after_alarms

BLOCK = 256  # rows whose distances are computed together


def nonconformity(values: np.ndarray, width: int, neighbours: int, reach: int) -> np.ndarray:
    """Mean distance from each row's window to its nearest earlier windows (NaN: too early).

    The windows compared end ``width``..``reach`` rows before the row.

    >>> a = nonconformity(np.r_[np.tile([0.0, 1.0], 20), 5.0], 2, 1, 30)
    >>> bool(a[-1] > 3 * np.nanmax(a[:-1]))
    True
    """
    n = len(values)
    out = np.full(n, np.nan)
    if n < 2 * width + neighbours:
        return out
    windows = sliding_window_view(values, width)  # windows[j] ends at row j + width - 1
    first = width - 1 + width + neighbours - 1  # the first row with enough earlier windows
    for start in range(first, n, BLOCK):
        rows = np.arange(start, min(n, start + BLOCK))
        lo = max(0, rows[0] - reach - width + 1)
        hi = rows[-1] - 2 * width + 2  # window ends up to row - width
        pool = windows[lo:hi]
        query = windows[rows - width + 1]
        distance = np.sqrt(((query[:, None, :] - pool[None, :, :]) ** 2).sum(axis=2))
        ends = np.arange(lo, hi) + width - 1
        gap = rows[:, None] - ends[None, :]
        distance[(gap < width) | (gap > reach)] = np.inf
        nearest = np.partition(distance, neighbours - 1, axis=1)[:, :neighbours]
        out[rows] = np.where(np.isfinite(nearest).all(axis=1), nearest.mean(axis=1), np.nan)
    return out


class KnnConformal(Detector):
    """Conformal rank of the k-NN distance of the last ``width`` values; one alarm per event."""

    name = "knn_cad"

    def __init__(
        self,
        period: int = 288,
        width: int = 8,
        neighbours: int = 3,
        seasons: int = 4,
        memory: int | None = 8,
    ) -> None:
        super().__init__(period)
        self.width, self.neighbours = width, neighbours
        self.reach = max(seasons * self.period, 4 * width)
        self.memory = memory  # seasons of nonconformities ranked against; None: all

    def _score(self, values: np.ndarray) -> np.ndarray:
        alpha = pd.Series(nonconformity(values, self.width, self.neighbours, self.reach))
        spread = float(np.ptp(values)) if len(values) else 0.0
        alpha = alpha.where(alpha.isna() | (alpha > 1e-9 * (1.0 + spread)), 0.0)  # exact repeats
        calibration = (
            alpha.expanding(min_periods=self.period)
            if self.memory is None
            else alpha.rolling(self.memory * self.period, min_periods=self.period)
        )
        rank = calibration.rank(pct=True, method="min")
        raw = rank.fillna(0.0).to_numpy().copy()
        raw[alpha.to_numpy() == 0.0] = 0.0  # a window seen before exactly is never an anomaly
        return rest_after_alarms(raw, level=0.999, rows=self.period // 4 + 1)


def blend(scores: list[np.ndarray], weights: tuple[float, ...]) -> np.ndarray:
    """Weighted mean of several detectors' scores (weights sum to 1).

    >>> blend([np.array([1.0, 0.0]), np.array([0.0, 1.0])], (0.75, 0.25)).tolist()
    [0.75, 0.25]
    """
    return np.sum([w * s for w, s in zip(weights, scores, strict=True)], axis=0)


class Blend(Detector):
    """Weighted mean of the contextual and k-NN conformal scores: diversity by design."""

    name = "blend"
    knn_weight = 0.25

    def _score(self, values: np.ndarray) -> np.ndarray:
        from tasks.core.anomaly.contextual import ContextualNovelty

        members = [ContextualNovelty(self.period), KnnConformal(self.period)]
        weights = (1.0 - self.knn_weight, self.knn_weight)
        return blend([m.score(values) for m in members], weights)
