"""When to refit a series' model, and whether a new version replaces the current one."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
import pandas as pd

from tasks.core.forecast.models import build
from tasks.core.forecast.selection import mase_scale

MIN_NEW_ROWS = 3  # fewer rows since the version was trained say nothing about drift


class RetrainReason(StrEnum):
    """Why a series is refitted."""

    FIRST_FIT = "first_fit"  # the series has no current model yet
    SCHEDULE = "schedule"  # the current model is older than the retrain interval
    DRIFT = "drift"  # the current model's recent error grew past the drift threshold


@dataclass(frozen=True)
class CurrentModel:
    """What retraining needs to know about a series' current version."""

    model: str
    period: int
    backtest_mase: float
    trained_at: datetime
    trained_until: datetime | None = None  # the newest row it was trained (and backtested) on
    params: Mapping[str, object] = field(default_factory=dict)  # e.g. the ensemble's members


def recent_mase(frame: pd.DataFrame, current: CurrentModel, horizon: int) -> float:
    """MASE of the current model on rows it has not seen: the newest (at most ``horizon``)
    rows after ``trained_until``, forecast from a refit on the rows before them.

    NaN when fewer than ``MIN_NEW_ROWS`` rows arrived since: the rows the version was
    trained on were already judged by its backtest (mean MASE over several origins), and
    judging them again on one origin would call one odd stretch (a spike) drift.
    """
    values = frame["value"].to_numpy(dtype=float)
    new = len(values)
    if current.trained_until is not None:
        new = int((pd.to_datetime(frame["ts"], utc=True) > current.trained_until).sum())
    checked = min(new, horizon)
    if checked < MIN_NEW_ROWS or len(values) <= 2 * checked:
        return float("nan")
    train = frame.iloc[:-checked]
    model = build(current.model, current.period, current.params).fit(train)
    yhat = model.predict(checked)["yhat"].to_numpy()
    error = float(np.mean(np.abs(yhat - values[-checked:])))
    return error / mase_scale(values[:-checked], current.period)


def retrain_reason(
    current: CurrentModel | None,
    *,
    now: datetime,
    every: timedelta,
    recent: float,
    drift_threshold: float,
) -> RetrainReason | None:
    """Decide whether to refit: no model yet, schedule due, or error drift; else None.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 2, tzinfo=UTC)
    >>> m = CurrentModel("ets", 288, 0.5, t - timedelta(hours=1))
    >>> retrain_reason(m, now=t, every=timedelta(days=1), recent=0.6, drift_threshold=1.5)
    >>> retrain_reason(m, now=t, every=timedelta(days=1), recent=0.9, drift_threshold=1.5)
    <RetrainReason.DRIFT: 'drift'>
    """
    if current is None:
        return RetrainReason.FIRST_FIT
    if now - current.trained_at >= every:
        return RetrainReason.SCHEDULE
    if np.isfinite(recent) and recent > drift_threshold * max(current.backtest_mase, 1e-9):
        return RetrainReason.DRIFT
    return None


def beats_current(new_mase: float, current_kind_mase: float | None) -> bool:
    """A new version replaces the current one only if it backtests at least as well.

    ``current_kind_mase`` is the current model kind's MASE on the same origins.

    >>> beats_current(0.7, 0.8), beats_current(0.9, 0.8), beats_current(0.9, None)
    (True, False, True)
    """
    if current_kind_mase is None or not np.isfinite(current_kind_mase):
        return bool(np.isfinite(new_mase))
    return bool(np.isfinite(new_mase) and new_mase <= current_kind_mase)


@dataclass(frozen=True)
class VersionDraft:
    """A refit's outcome, ready to be stored as a model version."""

    model: str
    period: int
    seasonality: str
    params: dict
    backtest: dict[str, float | None]  # None: the model failed on this series
    backtest_mase: float
    baseline_mase: float
    is_promoted: bool
    reason: RetrainReason
    error: str = ""


def refit(
    frame: pd.DataFrame,
    candidates: list[str],
    current: CurrentModel | None,
    *,
    reason: RetrainReason,
    horizon: int,
    n_origins: int,
) -> VersionDraft:
    """Select a model by backtest, fit it on the whole window and say if it beats the current."""
    from tasks.core.forecast.selection import BASELINE, select_model

    names = list(candidates) + ([current.model] if current else [])
    selection = select_model(frame, names, horizon=horizon, n_origins=n_origins)
    mase = selection.backtest.mase
    fitted = selection.make().fit(frame)
    current_kind = mase.get(current.model) if current else None
    new_mase = mase.get(selection.model, float("inf"))
    return VersionDraft(
        model=fitted.name,
        period=selection.period,
        seasonality=selection.seasonality,
        params=dict(fitted.used.params),
        backtest={k: round(v, 6) if np.isfinite(v) else None for k, v in mase.items()},
        backtest_mase=new_mase,
        baseline_mase=mase.get(BASELINE, float("inf")),
        is_promoted=beats_current(new_mase, current_kind),
        reason=reason,
        error="; ".join([*selection.backtest.errors.values(), fitted.failure]).strip("; "),
    )
