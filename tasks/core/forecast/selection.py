"""Rolling-origin backtest on MASE and per-series model choice, with a fall-back model."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tasks.core.forecast.base import Forecaster
from tasks.core.forecast.models import MODELS, SeasonalNaive
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


@dataclass
class Backtest:
    """Mean MASE of each model over the origins (inf when a model failed)."""

    mase: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def best(self) -> str:
        """The model with the lowest MASE; the baseline unless another beats it."""
        finite = {k: v for k, v in self.mase.items() if np.isfinite(v)}
        if not finite:
            return BASELINE
        winner = min(finite, key=lambda k: finite[k])
        baseline = finite.get(BASELINE, np.inf)
        return winner if finite[winner] < baseline else BASELINE


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
    result = Backtest()
    for name in candidates:
        scores = []
        try:
            for origin in origins(len(values), horizon, n_origins, first):
                train = frame.iloc[:origin]
                yhat = make(name, period).fit(train).predict(horizon)["yhat"].to_numpy()
                actual = values[origin : origin + horizon]
                scale = mase_scale(values[:origin], period)
                scores.append(float(np.mean(np.abs(yhat - actual))) / scale)
        except Exception as exc:  # a failing model loses the selection, it does not stop it
            result.errors[name] = f"{type(exc).__name__}: {exc}"
            scores = []
        result.mase[name] = float(np.mean(scores)) if scores else np.inf
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
        return WithFallback(MODELS[self.model](period=self.period))


def select_model(
    frame: pd.DataFrame, candidates: Sequence[str], *, horizon: int, n_origins: int
) -> Selection:
    """Detect the season, backtest every candidate, keep the best (seasonal naive unless beaten)."""
    values = frame["value"].to_numpy(dtype=float)
    step = pd.to_datetime(frame["ts"], utc=True).diff().median().total_seconds()
    found = detect_seasonality(values, step if step > 0 else 60.0)
    horizon = min(horizon, max(len(values) // (2 * n_origins), 1))
    names = list(dict.fromkeys([BASELINE, *candidates]))
    result = backtest(frame, names, horizon=horizon, n_origins=n_origins, period=found.period)
    return Selection(result.best(), found.period, found.kind.value, result)
