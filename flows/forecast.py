"""Forecast and score every watched series from its current model version."""

from datetime import UTC, datetime

from prefect import flow, unmapped

from models.config.analytics import AnalyticsConfig
from models.store import MetricStore
from tasks.analytics import forecast_series, score_series
from tasks.analytics_series import analytics_series, process_rss_series
from tasks.analytics_store import engine_for


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
    """
    now = now or datetime.now(UTC)
    store = MetricStore(engine_for(db_url))
    series = analytics_series(store, config.series)
    rss = process_rss_series(store) if config.leak_detection else []
    points = forecast_series.map(
        unmapped(db_url), series, unmapped(config), unmapped(now), unmapped(crossings or [])
    )
    scores = score_series.map(unmapped(db_url), series, unmapped(config), unmapped(now))
    leaks = score_series.map(
        unmapped(db_url), rss, unmapped(config), unmapped(now), unmapped("memory_leak")
    )
    return {
        "forecast_points": sum(f.result() for f in points),
        "anomaly_scores": sum(f.result() for f in scores),
        "leak_scores": sum(f.result() for f in leaks),
    }
