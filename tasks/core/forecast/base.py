"""The forecaster contract: ``fit(frame) -> self``, ``predict(horizon) -> frame`` with intervals.

``frame`` has columns ``ts`` (datetimes, evenly spaced) and ``value``. ``predict`` returns
columns ``ts, yhat, lower, upper`` (a 95 % interval) for the next ``horizon`` steps.
"""

from abc import ABC, abstractmethod
from typing import Self

import numpy as np
import pandas as pd

from tasks.core.forecast.seasonality import detect_seasonality

Z95 = 1.959964


class ForecastError(ValueError):
    """A series a forecaster cannot handle (too short, not numeric, ...)."""


class Forecaster(ABC):
    """Base class: keeps the step and last timestamp, builds the output frame."""

    name = "forecaster"
    min_rows = 3

    def __init__(self, period: int | None = None) -> None:
        self.period = period  # rows per season; None: detect from the data
        self.params: dict[str, float | int | str] = {}

    @property
    def season(self) -> int:
        """Rows per season, known once ``fit`` has run."""
        assert self.period is not None, "fit() decides the period"
        return self.period

    def fit(self, frame: pd.DataFrame) -> Self:
        """Learn from ``frame`` (columns ts, value); raise ForecastError if it is unusable."""
        values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
        if len(values) < self.min_rows or not np.isfinite(values).all():
            raise ForecastError(f"{self.name}: need {self.min_rows}+ finite values")
        ts = pd.to_datetime(frame["ts"], utc=True)
        self.step = ts.diff().median() if len(ts) > 1 else pd.Timedelta(seconds=60)
        self.last_ts = ts.iloc[-1]
        if self.period is None:
            self.period = detect_seasonality(values, self.step.total_seconds()).period
        self.params["period"] = self.period
        self.sigma = self._fit(values)
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        """Forecast ``horizon`` steps with a 95 % prediction interval."""
        yhat = np.asarray(self._predict(horizon), dtype=float)
        if len(yhat) != horizon or not np.isfinite(yhat).all():
            raise ForecastError(f"{self.name}: produced a non-finite forecast")
        steps = np.arange(1, horizon + 1)
        spread = Z95 * self.sigma * np.sqrt(np.minimum(steps, max(self.period or 1, 12)))
        ts = self.last_ts + self.step * steps
        return pd.DataFrame(
            {"ts": ts, "yhat": yhat, "lower": yhat - spread, "upper": yhat + spread}
        )

    @abstractmethod
    def _fit(self, values: np.ndarray) -> float:
        """Fit to the values; return the one-step residual standard deviation."""

    @abstractmethod
    def _predict(self, horizon: int) -> np.ndarray:
        """Point forecast for the next ``horizon`` steps."""


def residual_sigma(residuals: np.ndarray) -> float:
    """Standard deviation of the finite residuals (0 when there are none)."""
    finite = residuals[np.isfinite(residuals)]
    return float(np.std(finite)) if len(finite) > 1 else 0.0
