"""The collect flow: one run covers a window of many ticks, each tick one stored batch."""

import time
from datetime import UTC, datetime

import httpx
from prefect import flow, get_run_logger

from models.config import load_config
from models.config.root import VigilConfig
from models.db import make_engine
from models.settings import get_settings
from models.store import MetricStore
from tasks.collect import Collection, collect_tick
from tasks.core.labels import parse_canonical
from tasks.core.process_tracking import WatchState


@flow(name="collect")
def collect(
    config_path: str | None = None,
    db_url: str | None = None,
    window_seconds: float | None = None,
) -> dict[str, int]:
    """Collect host, process and scrape metrics for ``window_seconds`` (default: run_window).

    Ticks follow the shortest collector interval; each collector runs when it is due.
    Returns the number of ticks and of samples stored.
    """
    settings = get_settings()
    config = load_config(config_path or settings.config_path)
    retention = config.collectors.retention
    engine = make_engine(db_url or settings.database_url)
    store = MetricStore(engine, raw_keep=retention.raw, minute_keep=retention.rollup_1m)
    window = window_seconds or config.collectors.run_window.total_seconds()
    try:
        ticks, stored = _tick_through(config, store, window)
    finally:
        engine.dispose()
    get_run_logger().info("collected %d samples in %d ticks", stored, ticks)
    return {"ticks": ticks, "samples": stored}


def _tick_through(config: VigilConfig, store: MetricStore, window: float) -> tuple[int, int]:
    """Tick at the shortest collector interval for ``window`` seconds; return ticks, samples."""
    with httpx.Client() as client:
        collection = Collection.from_config(config, client, restart_counts(store))
        intervals = collection.intervals()
        if not intervals:
            get_run_logger().warning("no collector is enabled; nothing to collect")
            return 0, 0
        step = min(intervals.values())
        ticks = max(1, round(window / step))
        began, stored = time.monotonic(), 0
        for tick in range(ticks):
            if tick:
                time.sleep(max(0.0, began + tick * step - time.monotonic()))
            stored += collect_tick(collection, store, datetime.now(UTC))
    return ticks, stored


def restart_counts(store: MetricStore) -> dict[str, WatchState]:
    """Return each watched process's last pid and restart count, so a new run continues them."""
    restarts = store.latest("process_restarts_total")
    pids = store.latest("process_pid")
    pid_of = {
        _process(labels): value for labels, value in zip(pids.labels, pids.value, strict=True)
    }
    states = {}
    for labels, value in zip(restarts.labels, restarts.value, strict=True):
        name = _process(labels)
        pid = pid_of.get(name)
        states[name] = WatchState(pid=None if pid is None else int(pid), restarts=int(value))
    return states


def _process(canonical: str) -> str:
    return parse_canonical(canonical).get("process", "")
