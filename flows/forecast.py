"""Forecast and score every watched series from its current model version."""

from datetime import UTC, datetime

from prefect import flow, unmapped

from models.config import load_config
from models.settings import get_settings
from models.store import MetricStore
from tasks.analytics.runners import analytics_task_runner
from tasks.store.flow_timing import timed_run


@flow(name="forecast")
@timed_run("forecast")
def forecast(now: datetime | None = None) -> dict[str, int]:
    """Store fresh forecasts, anomaly scores and leak scores; return how many of each were written.

    The ``analytics:`` section, the forecast rules and the store are the serving process's
    (``VIGIL_CONFIG_PATH``, ``VIGIL_DATABASE_URL``). The crossings of the forecast rules are
    estimated (see ``forecast_series``); with ``leak_detection`` every watched process's RSS
    is scored by ``memory_leak``. The series run on the task runner the config names (Dask
    when ``dask_address`` is set), chosen here so served runs and work-pool runs alike use it.
    """
    # Imported by the run, not with the flow: `vigil serve` holds every flow to serve it,
    # and these bring pandas, SciPy and scikit-learn, which only a run needs.
    from tasks.analytics.jobs import forecast_series, score_series
    from tasks.analytics.store import engine_for
    from tasks.analytics.watched_series import (
        analytics_series,
        forecast_crossings,
        process_rss_series,
    )

    now = now or datetime.now(UTC)
    settings = get_settings()
    vigil_config = load_config(settings.config_path)
    db_url, config = settings.database_url, vigil_config.analytics
    crossings = forecast_crossings(vigil_config)
    store = MetricStore(engine_for(db_url))
    series = analytics_series(store, config.series)
    rss = process_rss_series(store) if config.leak_detection else []
    shared = {"db_url": unmapped(db_url), "config": unmapped(config), "now": unmapped(now)}
    with analytics_task_runner(config.dask_address) as runner:
        points = runner.map(
            forecast_series, {**shared, "info": series, "crossings": unmapped(crossings)}
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
