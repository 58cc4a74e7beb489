"""Forecast and score every watched series from its current model version."""

from datetime import UTC, datetime

from prefect import flow, unmapped

from models.config.analytics import AnalyticsConfig
from models.store import MetricStore
from tasks.analytics import forecast_series, score_series
from tasks.analytics_series import analytics_series, process_rss_series
from tasks.analytics_store import engine_for
from tasks.runners import analytics_task_runner


@flow(name="forecast")
def forecast(
    db_url: str,
    config: AnalyticsConfig,
    now: datetime | None = None,
    crossings: list[tuple[str, float]] | None = None,
) -> dict[str, int]:
    """Store fresh forecasts, anomaly scores and leak scores; return how many of each were written.

    ``crossings``: (selector, threshold) of the forecast alert rules (see ``forecast_series``).
    With ``config.leak_detection`` every watched process's RSS is scored by ``memory_leak``.
    The series run on the task runner ``config`` names (Dask when ``dask_address`` is set),
    chosen here so served runs and work-pool runs alike use it.
    """
    now = now or datetime.now(UTC)
    store = MetricStore(engine_for(db_url))
    series = analytics_series(store, config.series)
    rss = process_rss_series(store) if config.leak_detection else []
    shared = {"db_url": unmapped(db_url), "config": unmapped(config), "now": unmapped(now)}
    with analytics_task_runner(config.dask_address) as runner:
        points = runner.map(
            forecast_series, {**shared, "info": series, "crossings": unmapped(crossings or [])}
        )
        scores = runner.map(score_series, {**shared, "info": series})
        leaks = runner.map(
            score_series, {**shared, "info": rss, "detector_name": unmapped("memory_leak")}
        )
        return {
            "forecast_points": sum(f.result() for f in points),
            "anomaly_scores": sum(f.result() for f in scores),
            "leak_scores": sum(f.result() for f in leaks),
        }
