"""Prefect task adapters for analytics: fetch a series, call tasks/core, write the outcome.

Tasks receive the store URL (not an engine) so the Dask task runner can ship them.
"""

import json
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from prefect import task

from models.config.analytics import AnalyticsConfig
from models.store import MetricStore, SeriesInfo
from models.vocabulary.selectors import parse_selector
from tasks.analytics.feedback import with_dismissals
from tasks.analytics.store import (
    as_current,
    current_version,
    engine_for,
    save_crossings,
    save_failure,
    save_forecast,
    save_scores,
    save_version,
    series_ref,
)
from tasks.core.anomaly.base import period_rows
from tasks.core.anomaly.registry import make_detector
from tasks.core.forecast.models import build
from tasks.core.forecast.retrain import recent_mase, refit, retrain_reason
from tasks.core.forecast.selection import WithFallback
from tasks.core.forecast.threshold import time_to_threshold


def history(store: MetricStore, info: SeriesInfo, config: AnalyticsConfig, now: datetime):  # type: ignore[no-untyped-def]
    """The series' samples in the training window: columns ts, value."""
    frame = store.query_range(series_ref(info), now - config.history, now)
    return frame[frame["series_id"] == info.id][["ts", "value"]].reset_index(drop=True)


def horizon_rows(frame: pd.DataFrame, config: AnalyticsConfig) -> int:
    """The configured horizon in rows of this series' sampling step (at least 1)."""
    step = frame["ts"].diff().median().total_seconds() if len(frame) > 1 else 60.0
    return max(int(config.horizon.total_seconds() // max(step, 1.0)), 1)


@task(name="retrain-series", task_run_name="retrain {info.name}#{info.id}")
def retrain_series(db_url: str, info: SeriesInfo, config: AnalyticsConfig, now: datetime) -> str:
    """Refit one series if due (first fit, schedule, drift); store the version; report."""
    engine = engine_for(db_url)
    frame = history(MetricStore(engine), info, config, now)
    if len(frame) < 20:
        return f"{series_ref(info)}: skipped ({len(frame)} samples)"
    current = as_current(current_version(engine, info.id))
    horizon = min(horizon_rows(frame, config), len(frame) // (2 * config.backtest_origins) or 1)
    recent = recent_mase(frame, current, horizon) if current else float("nan")
    reason = retrain_reason(
        current,
        now=now,
        every=config.retrain_every,
        recent=recent,
        drift_threshold=config.drift_threshold,
    )
    if reason is None:
        return f"{series_ref(info)}: current model still good"
    try:
        draft = refit(
            frame,
            list(config.models),
            current,
            reason=reason,
            horizon=horizon,
            n_origins=config.backtest_origins,
        )
    except Exception as exc:  # failures become rows; the current version stays current
        save_failure(engine, info.id, f"{type(exc).__name__}: {exc}", now=now)
        return f"{series_ref(info)}: refit failed ({exc})"
    draft = with_dismissals(engine, info, draft, since=now - config.history)
    row = save_version(
        engine,
        info.id,
        draft,
        train_start=frame["ts"].iloc[0].to_pydatetime(),
        train_end=frame["ts"].iloc[-1].to_pydatetime(),
        now=now,
    )
    verdict = "promoted" if draft.is_promoted else "kept previous"
    return f"{series_ref(info)}: v{row.version} {row.model} ({reason}, {verdict})"


@task(name="forecast-series", task_run_name="forecast {info.name}#{info.id}")
def forecast_series(
    db_url: str,
    info: SeriesInfo,
    config: AnalyticsConfig,
    now: datetime,
    crossings: Sequence[tuple[str, float]] = (),
) -> int:
    """Forecast one series with its current version's model; store and return the points.

    ``crossings`` are (selector, threshold) pairs of forecast alert rules: for those that
    select this series, the time until the forecast crosses the threshold is stored too.
    """
    engine = engine_for(db_url)
    version = current_version(engine, info.id)
    frame = history(MetricStore(engine), info, config, now)
    if version is None or len(frame) < 3:
        return 0
    params = json.loads(version.params or "{}")
    model = WithFallback(build(version.model, version.period, params)).fit(frame)
    forecast = model.predict(horizon_rows(frame, config))
    thresholds = [t for sel, t in crossings if parse_selector(sel).matches(info.name, info.labels)]
    if thresholds:
        estimates = [time_to_threshold(forecast, t, now=now) for t in thresholds]
        save_crossings(MetricStore(engine), info, estimates, now)
    return save_forecast(engine, info.id, version.id or 0, now, forecast)


@task(name="score-series", task_run_name="score {info.name}#{info.id}")
def score_series(
    db_url: str,
    info: SeriesInfo,
    config: AnalyticsConfig,
    now: datetime,
    detector_name: str | None = None,
) -> int:
    """Score the training window with ``detector_name`` (default: the configured detector);
    store the new scores."""
    name = detector_name or config.detector
    store = MetricStore(engine_for(db_url))
    frame = history(store, info, config, now)
    if frame.empty:
        return 0
    step = frame["ts"].diff().median().total_seconds() if len(frame) > 1 else 300.0
    detector = make_detector(name, period_rows(step))
    scores = detector.score(frame["value"].to_numpy())
    # after a failure these are the fallback's scores: filed under its name, not the failed one's
    return save_scores(store, info, detector.name, frame["ts"], scores)
