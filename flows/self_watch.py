"""The self-watch flow: Vigil's own state as samples (its built-in rules watch them), heartbeat."""

from datetime import UTC, datetime

from prefect import flow, get_run_logger

from models.config import load_config
from models.db import make_engine
from models.settings import get_settings
from models.store import MetricStore
from tasks.alerting.subscribe import alerting_on_batches
from tasks.selfwatch.observe import (
    deployment_run_counts,
    deployment_samples,
    send_heartbeat,
    store_samples,
)
from tasks.store.batch import store_batch
from tasks.store.flow_timing import timed_run


@flow(name="self-watch")
@timed_run("self-watch")
def self_watch() -> dict[str, int]:
    """Write Vigil's own samples (outbox, channels, store, retention, deployments); beat.

    The config and the store are the serving process's (``VIGIL_CONFIG_PATH``,
    ``VIGIL_DATABASE_URL``). Returns the samples stored and whether a heartbeat was queued.
    """
    settings = get_settings()
    config = load_config(settings.config_path)
    now = datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        store = MetricStore(engine)
        samples = store_samples(store, config, now)
        window = config.self_watch.deployment_window
        samples += deployment_samples(deployment_run_counts(window, now), config.labels, now)
        with alerting_on_batches(config, settings.database_url):
            stored = store_batch(store, samples, source="self", now=now).accepted
        beat = send_heartbeat(engine, config, now)
    finally:
        engine.dispose()
    get_run_logger().info("self-watch: %d samples; heartbeat %s", stored, beat)
    return {"samples": stored, "heartbeat": int(beat)}
