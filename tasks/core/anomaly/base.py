"""The detector contract: ``score(values) -> scores`` in [0, 1], higher = more anomalous.

Scores are online: the score of row i depends on rows 0..i only, so scoring a prefix
gives the prefix of the scores. ``period`` is the seasonal cycle in rows (a day of
5-minute data by default); parameters are fixed in code, never fitted to labels.
"""

from abc import ABC, abstractmethod

import numpy as np

DAY_OF_5_MIN = 288


def period_rows(step_seconds: float) -> int:
    """Rows in one day at this sampling step (the detectors' season), at least 2.

    >>> period_rows(300), period_rows(3600)
    (288, 24)
    """
    return max(round(86_400 / max(step_seconds, 1.0)), 2)


class Detector(ABC):
    """Base class: validates input and clips output to [0, 1]."""

    name = "detector"

    def __init__(self, period: int = DAY_OF_5_MIN) -> None:
        self.period = max(int(period), 2)

    def score(self, values: np.ndarray) -> np.ndarray:
        """Anomaly score per row; non-finite inputs are carried forward from the last value."""
        values = np.asarray(values, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"{self.name}: expected a 1-D series, got shape {values.shape}")
        if len(values) == 0:
            return np.zeros(0)
        scores = self._score(forward_fill(values))
        return np.clip(np.nan_to_num(scores), 0.0, 1.0)

    @abstractmethod
    def _score(self, values: np.ndarray) -> np.ndarray:
        """Raw online scores for finite values."""


def forward_fill(values: np.ndarray) -> np.ndarray:
    """Replace NaN/inf by the previous finite value (0 before the first).

    >>> forward_fill(np.array([np.nan, 1.0, np.inf, 3.0])).tolist()
    [0.0, 1.0, 1.0, 3.0]
    """
    finite = np.isfinite(values)
    index = np.where(finite, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    filled = values[index]
    return np.where(np.isfinite(filled), filled, 0.0)
