"""Rolling-origin backtest on MASE and per-series model choice, with a fall-back model."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tasks.core.forecast.base import Forecaster
from tasks.core.forecast.models import MODELS, SIMPLICITY, MedianEnsemble, SeasonalNaive
from tasks.core.forecast.seasonality import detect_seasonality

BASELINE = SeasonalNaive.name


def mase_scale(values: np.ndarray, period: int) -> float:
    """Mean absolute seasonal difference of the training values (MASE's denominator).

    >>> mase_scale(np.array([1.0, 2.0, 1.0, 2.0, 1.0]), 1)
    1.0
    """
    lag = period if len(values) > period else 1
    diffs = np.abs(values[lag:] - values[:-lag])
    scale = float(np.mean(diffs)) if len(diffs) else 0.0
    return scale if scale > 0 else 1.0


def origins(n: int, horizon: int, count: int, first: int) -> list[int]:
    """``count`` evenly spaced origins from ``first`` that leave ``horizon`` rows to check.

    >>> origins(100, 10, 3, 50)
    [50, 70, 90]
    """
    last = n - horizon
    if last < first:
        return []
    if count == 1:
        return [last]
    return [round(x) for x in np.linspace(first, last, count)]


ENSEMBLE = MedianEnsemble.name
# bench/forecast.py --cv 5 picks both on every split's training folds:
ENSEMBLE_SIZE = 4  # the ensemble is the median of the best this many candidates
MARGIN = 0.0  # a model must beat a simpler one by this share of MASE to be chosen over it
CANDIDATES = tuple(m for m in MODELS if m not in (BASELINE, "prophet"))  # prophet: slow
BACKTEST_ORIGINS = 6  # rolling origins per backtest: enough for a stable choice


@dataclass
class Backtest:
    """Mean MASE of each model over the origins (inf when a model failed).

    ``forecasts`` keeps each model's forecast at every origin and ``actuals`` what
    happened, so an ensemble of the best can be scored without refitting.
    """

    mase: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    forecasts: dict[str, list[np.ndarray]] = field(default_factory=dict)
    actuals: list[np.ndarray] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    members: tuple[str, ...] = ()

    def add_ensemble(self, size: int = ENSEMBLE_SIZE) -> None:
        """Score the median of the ``size`` best finite models as ``median_ensemble``."""
        ranked = sorted((v, k) for k, v in self.mase.items() if np.isfinite(v) and k != ENSEMBLE)
        if len(ranked) < 2 or size < 2:
            return
        self.members = tuple(k for _, k in ranked[:size])
        errors = []
        for i, (actual, scale) in enumerate(zip(self.actuals, self.scales, strict=True)):
            yhat = np.median([self.forecasts[m][i] for m in self.members], axis=0)
            errors.append(float(np.mean(np.abs(yhat - actual))) / scale)
        self.mase[ENSEMBLE] = float(np.mean(errors))

    def best(self, margin: float = MARGIN) -> str:
        """The simplest model within ``margin`` of the lowest MASE (the baseline if none is finite).

        >>> Backtest({"last_value": 1.0, "ets": 0.97, "arima": 0.5}).best(0.05)
        'arima'
        >>> Backtest({"last_value": 1.0, "ets": 0.97}).best(0.05)
        'last_value'
        """
        finite = {k: v for k, v in self.mase.items() if np.isfinite(v)}
        if not finite:
            return BASELINE
        lowest = min(finite.values())
        close = [k for k in finite if finite[k] <= lowest * (1.0 + margin)]
        return min(close, key=lambda k: SIMPLICITY.index(k) if k in SIMPLICITY else len(SIMPLICITY))


def backtest(
    frame: pd.DataFrame,
    candidates: Sequence[str],
    *,
    horizon: int,
    n_origins: int,
    period: int,
    make: Callable[[str, int], Forecaster] | None = None,
) -> Backtest:
    """Refit every candidate at each origin in the last part of ``frame`` and score MASE."""
    make = make or (lambda name, p: MODELS[name](period=p))
    values = frame["value"].to_numpy(dtype=float)
    first = max(len(values) // 2, len(values) - horizon * n_origins)
    points = origins(len(values), horizon, n_origins, first)
    result = Backtest()
    result.actuals = [values[o : o + horizon] for o in points]
    result.scales = [mase_scale(values[:o], period) for o in points]
    for name in candidates:
        forecasts = []
        try:
            for origin in points:
                train = frame.iloc[:origin]
                forecasts.append(make(name, period).fit(train).predict(horizon)["yhat"].to_numpy())
        except Exception as exc:  # a failing model loses the selection, it does not stop it
            result.errors[name] = f"{type(exc).__name__}: {exc}"
            forecasts = []
        result.forecasts[name] = forecasts
        scores = [
            float(np.mean(np.abs(f - a))) / s
            for f, a, s in zip(forecasts, result.actuals, result.scales, strict=False)
        ]
        result.mase[name] = float(np.mean(scores)) if forecasts else np.inf
    return result


class WithFallback:
    """Use ``primary``; if it fails to fit or predict, use seasonal naive instead.

    Follows the forecaster contract; ``failure`` says why the fall-back was used.
    """

    def __init__(self, primary: Forecaster, fallback: Forecaster | None = None) -> None:
        self.primary = primary
        self.fallback = fallback or SeasonalNaive(period=primary.period)
        self.used = primary
        self.failure = ""

    @property
    def name(self) -> str:
        """Name of the model actually in use."""
        return self.used.name

    def fit(self, frame: pd.DataFrame) -> "WithFallback":
        """Fit the fall-back (cheap) and the primary; keep the fall-back if the primary fails."""
        self.fallback.fit(frame)
        try:
            self.primary.fit(frame)
            self.used = self.primary
        except Exception as exc:
            self._fall_back(exc)
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        """Forecast with the model in use, falling back if the primary fails now."""
        try:
            return self.used.predict(horizon)
        except Exception as exc:
            if self.used is self.fallback:
                raise
            self._fall_back(exc)
            return self.fallback.predict(horizon)

    def _fall_back(self, exc: Exception) -> None:
        self.failure = f"{self.primary.name} failed: {type(exc).__name__}: {exc}"
        self.used = self.fallback


@dataclass(frozen=True)
class Selection:
    """The model chosen for a series, its season and the backtest behind the choice."""

    model: str
    period: int
    seasonality: str
    backtest: Backtest

    def make(self) -> WithFallback:
        """A fresh forecaster of the chosen kind, wrapped in the seasonal-naive fall-back."""
        if self.model == ENSEMBLE:
            return WithFallback(MedianEnsemble(self.period, self.backtest.members))
        return WithFallback(MODELS[self.model](period=self.period))


def select_model(
    frame: pd.DataFrame,
    candidates: Sequence[str],
    *,
    horizon: int,
    n_origins: int,
    margin: float = MARGIN,
    ensemble_size: int = ENSEMBLE_SIZE,
) -> Selection:
    """Detect the season, backtest every candidate and the median of the best, keep the
    simplest model within ``margin`` of the lowest MASE."""
    values = frame["value"].to_numpy(dtype=float)
    step = pd.to_datetime(frame["ts"], utc=True).diff().median().total_seconds()
    found = detect_seasonality(values, step if step > 0 else 60.0)
    horizon = min(horizon, max(len(values) // (2 * n_origins), 1))
    names = [n for n in dict.fromkeys([BASELINE, *candidates]) if n != ENSEMBLE]
    result = backtest(frame, names, horizon=horizon, n_origins=n_origins, period=found.period)
    if ENSEMBLE in candidates:
        result.add_ensemble(ensemble_size)
    return Selection(result.best(margin), found.period, found.kind.value, result)
