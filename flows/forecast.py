"""Forecast and score every watched series from its current model version."""

from datetime import UTC, datetime

from prefect import flow, unmapped

from models.config.analytics import AnalyticsConfig
from models.store import MetricStore
from tasks.analytics import forecast_series, score_series
from tasks.analytics_series import analytics_series
from tasks.analytics_store import engine_for


@flow(name="forecast")
def forecast(
    db_url: str,
    config: AnalyticsConfig,
    now: datetime | None = None,
    crossings: list[tuple[str, float]] | None = None,
) -> dict[str, int]:
    """Store fresh forecasts and anomaly scores; return how many points of each were written.

    ``crossings``: (selector, threshold) of the forecast alert rules (see ``forecast_series``).
    """
    now = now or datetime.now(UTC)
    series = analytics_series(MetricStore(engine_for(db_url)), config.series)
    points = forecast_series.map(
        unmapped(db_url), series, unmapped(config), unmapped(now), unmapped(crossings or [])
    )
    scores = score_series.map(unmapped(db_url), series, unmapped(config), unmapped(now))
    return {
        "forecast_points": sum(f.result() for f in points),
        "anomaly_scores": sum(f.result() for f in scores),
    }
