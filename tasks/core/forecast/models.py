"""Forecasting models: baselines (last value, drift, seasonal naive), seasonal profile,
trend models, ETS, ARIMA (statsmodels), prophet and a median ensemble.

ETS and ARIMA run on the deseasonalised series (a per-phase profile is removed first and
added back), which keeps them fast on 5-minute data with a 288-step daily cycle.
"""

import logging
import warnings
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd

from tasks.core.forecast.base import Forecaster, residual_sigma

MAX_FIT_ROWS = 1008  # ETS/ARIMA see at most 3.5 days of 5-minute data: fits stay fast
PROFILE_CYCLES = 4  # seasons averaged for the profile: enough to cancel noise, recent enough
TREND_SEASONS = 2  # seasons the local trend of seasonal_trend is fitted on


def seasonal_profile(values: np.ndarray, period: int) -> np.ndarray:
    """Mean shape of the last few seasons, centred on zero, indexed by phase."""
    cycles = min(len(values) // period, PROFILE_CYCLES)
    if period <= 1 or cycles < 1:
        return np.zeros(max(period, 1))
    recent = values[len(values) - cycles * period :].reshape(cycles, period)
    profile = np.median(recent - recent.mean(axis=1, keepdims=True), axis=0)
    start_phase = (len(values) - cycles * period) % period
    return np.roll(profile, start_phase)


def phases(start: int, count: int, period: int) -> np.ndarray:
    """Phase index of rows ``start .. start+count-1``."""
    return (np.arange(start, start + count)) % max(period, 1)


class LastValue(Forecaster):
    """Repeat the last value: what a level shift leaves behind."""

    name = "last_value"
    min_rows = 1

    def _fit(self, values: np.ndarray) -> float:
        self.last = float(values[-1])
        return residual_sigma(np.diff(values))

    def _predict(self, horizon: int) -> np.ndarray:
        return np.full(horizon, self.last)


class Drift(Forecaster):
    """The last value plus the average step of the history (a random walk with drift)."""

    name = "drift"
    min_rows = 2

    def _fit(self, values: np.ndarray) -> float:
        self.last = float(values[-1])
        self.slope = float(values[-1] - values[0]) / (len(values) - 1)
        self.params["slope_per_step"] = self.slope
        return residual_sigma(np.diff(values) - self.slope)

    def _predict(self, horizon: int) -> np.ndarray:
        return self.last + self.slope * np.arange(1, horizon + 1)


class SeasonalNaive(Forecaster):
    """Repeat the last season: the baseline every model must beat."""

    name = "seasonal_naive"

    def _fit(self, values: np.ndarray) -> float:
        self.history = values[-self.season :]
        return residual_sigma(values[self.season :] - values[: -self.season])

    def _predict(self, horizon: int) -> np.ndarray:
        return np.resize(self.history, horizon) if len(self.history) else np.zeros(horizon)


class SeasonalProfile(Forecaster):
    """Recent level plus the median seasonal shape of the last few seasons."""

    name = "seasonal_profile"

    def _fit(self, values: np.ndarray) -> float:
        self.n = len(values)
        self.profile = seasonal_profile(values, self.season)
        adjusted = values - self.profile[phases(0, self.n, self.season)]
        self.level = float(np.median(adjusted[-max(self.season, 12) :]))
        return residual_sigma(adjusted - self.level)

    def _predict(self, horizon: int) -> np.ndarray:
        return self.level + self.profile[phases(self.n, horizon, self.season)]


class LinearTrend(Forecaster):
    """Straight-line trend plus the seasonal profile: how disks and leaks fill up."""

    name = "linear_trend"

    def _fit(self, values: np.ndarray) -> float:
        self.n = len(values)
        self.profile = seasonal_profile(values, self.season)
        adjusted = values - self.profile[phases(0, self.n, self.season)]
        x = np.arange(self.n, dtype=float)
        self.slope, self.intercept = np.polyfit(x, adjusted, 1)
        self.params.update({"slope_per_step": float(self.slope)})
        return residual_sigma(adjusted - (self.intercept + self.slope * x))

    def _predict(self, horizon: int) -> np.ndarray:
        x = np.arange(self.n, self.n + horizon, dtype=float)
        return self.intercept + self.slope * x + self.profile[phases(self.n, horizon, self.season)]


class SeasonalTrend(Forecaster):
    """Seasonal profile plus a local straight line through the last two seasons."""

    name = "seasonal_trend"

    def _fit(self, values: np.ndarray) -> float:
        self.n = len(values)
        self.profile = seasonal_profile(values, self.season)
        adjusted = values - self.profile[phases(0, self.n, self.season)]
        recent = adjusted[-max(TREND_SEASONS * self.season, 24) :]
        x = np.arange(self.n - len(recent), self.n, dtype=float)
        self.slope, self.intercept = 0.0, float(recent[0])
        if len(recent) > 1:
            self.slope, self.intercept = (float(c) for c in np.polyfit(x, recent, 1))
        self.params["slope_per_step"] = float(self.slope)
        return residual_sigma(recent - (self.intercept + self.slope * x))

    def _predict(self, horizon: int) -> np.ndarray:
        x = np.arange(self.n, self.n + horizon, dtype=float)
        return self.intercept + self.slope * x + self.profile[phases(self.n, horizon, self.season)]


class _Deseasonalised(Forecaster):
    """Remove the seasonal profile, model the rest, add the profile back."""

    offset = 0.0  # added back to the adjusted model's forecast
    result: Any  # the fitted statsmodels results object

    @abstractmethod
    def _fit_adjusted(self, adjusted: np.ndarray) -> np.ndarray:
        """Fit the deseasonalised values; return the in-sample residuals."""

    def _fit(self, values: np.ndarray) -> float:
        self.n = len(values)
        self.profile = seasonal_profile(values, self.season)
        adjusted = values - self.profile[phases(0, self.n, self.season)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels convergence chatter is not an error
            residuals = self._fit_adjusted(adjusted[-MAX_FIT_ROWS:])
        return residual_sigma(residuals)

    def _predict(self, horizon: int) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rest = np.asarray(self.result.forecast(horizon), dtype=float)
        return rest + self.offset + self.profile[phases(self.n, horizon, self.season)]


class ETS(_Deseasonalised):
    """Damped-trend exponential smoothing (statsmodels Holt-Winters) on the adjusted series."""

    name = "ets"
    min_rows = 10

    def _fit_adjusted(self, adjusted: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        model = ExponentialSmoothing(adjusted, trend="add", damped_trend=True)
        self.result = model.fit(optimized=True, use_brute=False)
        scalars = {k: v for k, v in self.result.params.items() if np.isscalar(v)}
        self.params.update({k: float(v) for k, v in scalars.items()})  # type: ignore[arg-type]
        return adjusted - self.result.fittedvalues


class ARIMA(_Deseasonalised):
    """ARIMA(1,0,1) around the mean (statsmodels, Hannan-Rissanen) on the adjusted series."""

    name = "arima"
    min_rows = 20
    order = (1, 0, 1)

    def _fit_adjusted(self, adjusted: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.arima.model import ARIMA as StatsARIMA

        self.offset = float(np.mean(adjusted))  # demeaned: no GLS step for a constant
        model = StatsARIMA(adjusted - self.offset, order=self.order, trend="n")
        self.result = model.fit(method="hannan_rissanen")  # regression-based: no optimiser
        self.params.update({"order": str(self.order), "mean": self.offset})
        return np.asarray(self.result.resid)[1:]


class Prophet(Forecaster):
    """Facebook prophet with default settings (slow: about a second per fit)."""

    name = "prophet"
    min_rows = 10

    def _fit(self, values: np.ndarray) -> float:
        from prophet import Prophet as FbProphet

        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        ds = pd.date_range(end=self.last_ts, periods=len(values), freq=self.step).tz_localize(None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # prophet uses pandas APIs pandas now deprecates
            self.model = FbProphet().fit(pd.DataFrame({"ds": ds, "y": values}))
            fitted = self.model.predict(pd.DataFrame({"ds": ds}))["yhat"].to_numpy()
        return residual_sigma(values - fitted)

    def _predict(self, horizon: int) -> np.ndarray:
        start = self.last_ts + self.step
        ds = pd.date_range(start, periods=horizon, freq=self.step).tz_localize(None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.model.predict(pd.DataFrame({"ds": ds}))["yhat"].to_numpy()


ENSEMBLE_MEMBERS = ("seasonal_profile", "seasonal_trend", "ets")  # when none are given


class MedianEnsemble(Forecaster):
    """Median of several models' forecasts (selection passes the best backtested ones)."""

    name = "median_ensemble"
    min_rows = 10

    def __init__(self, period: int | None = None, members: tuple[str, ...] = ENSEMBLE_MEMBERS):
        super().__init__(period)
        self.members = tuple(members)

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit every member on ``frame`` with the season the ensemble decides."""
        super().fit(frame)
        self.fitted = [MODELS[m](period=self.season).fit(frame) for m in self.members]
        self.sigma = float(np.median([m.sigma for m in self.fitted]))
        self.params["members"] = ",".join(self.members)
        return self

    def _fit(self, values: np.ndarray) -> float:
        return 0.0  # fit() replaces it by the members' median once they are fitted

    def _predict(self, horizon: int) -> np.ndarray:
        return np.median([m.predict(horizon)["yhat"].to_numpy() for m in self.fitted], axis=0)


MODELS: dict[str, type[Forecaster]] = {
    m.name: m
    for m in (
        LastValue,
        Drift,
        SeasonalNaive,
        SeasonalProfile,
        LinearTrend,
        SeasonalTrend,
        ETS,
        ARIMA,
        Prophet,
        MedianEnsemble,
    )
}
SIMPLICITY = tuple(MODELS)  # simplest first: the order ties are broken in


def build(name: str, period: int | None, params: Mapping[str, object] | None = None) -> Forecaster:
    """A fresh forecaster of a stored version: its kind, season and, for the ensemble, members.

    >>> build("median_ensemble", 12, {"members": "ets,drift"}).members
    ('ets', 'drift')
    """
    members = str((params or {}).get("members") or "")
    if name == MedianEnsemble.name and members:
        return MedianEnsemble(period, tuple(members.split(",")))
    return MODELS[name](period=period)
