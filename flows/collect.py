"""The collect flow: one run covers a window of many ticks, each tick one stored batch."""

from prefect import flow, get_run_logger

from models.config import load_config
from models.db import make_engine
from models.errors import StoreError
from models.settings import get_settings
from models.store import MetricStore
from tasks.alerting.subscribe import alerting_on_batches
from tasks.collect.window import collect_window
from tasks.store.flow_timing import timed_run


@flow(name="collect")
@timed_run("collect")
def collect(window_seconds: float | None = None) -> dict[str, int]:
    """Collect host, process and scrape metrics for ``window_seconds`` (default: run_window).

    Ticks follow the shortest collector interval; each collector runs when it is due.
    Returns the number of ticks, of samples stored and of ticks whose write failed. The
    config and the store are the serving process's (``VIGIL_CONFIG_PATH``, ``VIGIL_DATABASE_URL``).
    """
    settings = get_settings()
    config = load_config(settings.config_path)
    retention = config.collectors.retention
    engine = make_engine(settings.database_url)
    store = MetricStore(engine, raw_keep=retention.raw, minute_keep=retention.rollup_1m)
    window = window_seconds or config.collectors.run_window.total_seconds()
    try:
        with alerting_on_batches(config, settings.database_url):
            outcome = collect_window(config, store, window)
    finally:
        engine.dispose()
    get_run_logger().info("collection window done: %s", outcome)
    if outcome["dropped"]:  # lost data fails the run, where the operator looks
        raise StoreError(
            f"{outcome['dropped']} samples were not stored: the store refused "
            f"{outcome['failed_ticks']} of {outcome['ticks']} ticks; check the store"
        )
    return outcome
