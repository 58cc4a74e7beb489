"""A collection window: many ticks at the shortest collector interval, each one stored batch."""

import time
from datetime import UTC, datetime

import httpx
from prefect import get_run_logger

from models.config.root import VigilConfig
from models.store import MetricStore
from models.vocabulary.labels import parse_canonical
from tasks.collect.tick import BACKLOG_LIMIT, Collection, collect_tick
from tasks.core.collect.backlog import Backlog
from tasks.core.collect.process_tracking import WatchState
from tasks.store.breakers import SCRAPE, StoredBreakers
from tasks.store.own_metrics import OWN_METRICS
from tasks.store.shared_counters import SAMPLES_DROPPED


def collect_window(config: VigilConfig, store: MetricStore, window: float) -> dict[str, int]:
    """Tick at the shortest collector interval for ``window`` seconds.

    A tick whose write fails (store unreachable) is logged and counted, and the window
    goes on: its samples wait in a bounded backlog and go with the next tick's batch.
    ``dropped`` counts the samples lost: beyond the backlog's limit, or still waiting
    when the window ends. Each tick reads the clock once; its samples carry that time.
    """
    with httpx.Client() as client:
        breakers = StoredBreakers(store.engine, SCRAPE)
        collection = Collection.from_config(config, client, restart_counts(store), breakers)
        intervals = collection.intervals()
        if not intervals:
            get_run_logger().warning("no collector is enabled; nothing to collect")
            return {"ticks": 0, "samples": 0, "failed_ticks": 0, "dropped": 0}
        step = min(intervals.values())
        ticks = max(1, round(window / step))
        began, began_s, stored, failed = time.monotonic(), 0.0, 0, 0
        backlog = Backlog(BACKLOG_LIMIT)
        for tick in range(ticks):
            if tick:
                time.sleep(max(0.0, began + tick * step - time.monotonic()))
            now = datetime.now(UTC)
            if tick == 0:
                began_s = now.timestamp()  # the slots are laid out from the first tick's time
            done = collect_tick(collection, store, now, began_s + tick * step, backlog=backlog)
            stored += done.stored
            if done.store_error:
                failed += 1
                get_run_logger().warning(
                    "tick %d not stored (%d samples wait): %s", tick, len(backlog), done.store_error
                )
    OWN_METRICS.count(SAMPLES_DROPPED, len(backlog), source="collect")
    OWN_METRICS.flush(store.engine)  # kept in memory if the store is still down
    dropped = backlog.dropped + len(backlog)
    return {"ticks": ticks, "samples": stored, "failed_ticks": failed, "dropped": dropped}


def restart_counts(store: MetricStore) -> dict[str, WatchState]:
    """Return each watched process's last pid and restart count, so a new run continues them."""
    pid_of = {_process(p.labels): p.value for p in store.latest_points("process_pid")}
    states = {}
    for point in store.latest_points("process_restarts_total"):
        name = _process(point.labels)
        pid = pid_of.get(name)
        states[name] = WatchState(pid=None if pid is None else int(pid), restarts=int(point.value))
    return states


def _process(canonical: str) -> str:
    return parse_canonical(canonical).get("process", "")
