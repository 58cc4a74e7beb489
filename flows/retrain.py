"""Refit each watched series' model when it is due (first fit, schedule, drift)."""

from datetime import UTC, datetime

from prefect import flow, unmapped

from models.config import load_config
from models.settings import get_settings
from models.store import MetricStore
from tasks.analytics.runners import analytics_task_runner
from tasks.store.flow_timing import timed_run


@flow(name="retrain")
@timed_run("retrain")
def retrain(now: datetime | None = None) -> list[str]:
    """Find the series, refit the due ones in parallel, return one line per series.

    The ``analytics:`` section and the store are the serving process's (``VIGIL_CONFIG_PATH``,
    ``VIGIL_DATABASE_URL``); the refits run on the task runner it names (Dask when
    ``dask_address`` is set).
    """
    # Imported by the run, not with the flow: `vigil serve` holds every flow to serve it,
    # and these bring pandas, SciPy and scikit-learn, which only a run needs.
    from tasks.analytics.jobs import retrain_series
    from tasks.analytics.store import engine_for
    from tasks.analytics.watched_series import analytics_series

    now = now or datetime.now(UTC)
    settings = get_settings()
    db_url, config = settings.database_url, load_config(settings.config_path).analytics
    series = analytics_series(MetricStore(engine_for(db_url)), config.series)
    shared = {"db_url": unmapped(db_url), "config": unmapped(config), "now": unmapped(now)}
    with analytics_task_runner(config.dask_address) as runner:
        futures = runner.map(retrain_series, {**shared, "info": series})
        return [f.result() for f in futures]
