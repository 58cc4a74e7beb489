"""One collection tick: run every collector that is due and store their samples as one batch."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE

from models.config.collectors import ProcessWatch
from models.config.root import VigilConfig
from models.config.starter import _safe_hostname
from models.errors import StoreError
from models.store import MetricStore, NewSample
from tasks.collect.host import HostCollector
from tasks.collect.own_health import StoreHealth
from tasks.collect.processes import ProcessCollector
from tasks.collect.scrape import ScrapeOutcome, breaker_name, breaker_params, scrape, skipped
from tasks.core.collect.backlog import Backlog
from tasks.core.collect.process_tracking import WatchState
from tasks.store.batch import store_batch
from tasks.store.breakers import StoredBreakers
from tasks.store.own_metrics import OWN_METRICS
from tasks.store.shared_counters import SAMPLES_DROPPED, SCRAPE_FAILURES, SCRAPES_SKIPPED

log = logging.getLogger(__name__)
LABEL_CACHE_LIMIT = 100_000  # label sets remembered per scrape target
BACKLOG_LIMIT = 100_000  # samples a run holds while the store is down (tens of MB at most)


@dataclass
class Collection:
    """Every configured collector with its interval and when it is next due."""

    config: VigilConfig
    client: httpx.Client
    host: HostCollector | None = None
    processes: ProcessCollector | None = None
    next_due: dict[str, float] = field(default_factory=dict)
    label_caches: dict[int, dict[str, dict[str, str]]] = field(default_factory=dict)
    breakers: StoredBreakers | None = None  # scrape targets' circuit breakers (None: none)
    store_health: StoreHealth = field(default_factory=StoreHealth)

    @classmethod
    def from_config(
        cls,
        config: VigilConfig,
        client: httpx.Client,
        states: dict[str, WatchState] | None = None,
        breakers: StoredBreakers | None = None,
    ) -> "Collection":
        """Build the collectors ``config`` enables; ``states`` carries restart counts over."""
        collection = cls(config, client, breakers=breakers)
        section = config.collectors
        if section.host.enabled:
            collection.host = HostCollector({**config.labels, "target": host_target(config)})
        if section.processes.enabled and section.processes.watch:
            collection.processes = ProcessCollector(
                section.processes.watch, collection.process_labels, dict(states or {})
            )
        return collection

    def intervals(self) -> dict[str, float]:
        """Return each collector's interval in seconds (keys: host, processes, scrape:<i>)."""
        section = self.config.collectors
        out = {}
        if self.host:
            out["host"] = section.host.interval.total_seconds()
        if self.processes:
            out["processes"] = section.processes.interval.total_seconds()
        for index, target in enumerate(section.scrapes):
            out[f"scrape:{index}"] = target.interval.total_seconds()
        return out

    def process_labels(self, watch: ProcessWatch) -> dict[str, str]:
        """Return the labels of a watched process's series."""
        target = watch.target or host_target(self.config)
        return {**self.config.labels, "target": target, "process": watch.name}

    def collect_due(self, now_s: float, slot_s: float | None = None) -> list[NewSample]:
        """Run the collectors due at tick slot ``slot_s`` (default ``now_s``); stamp ``now_s``.

        The flow passes the slot a tick was scheduled for, so a tick that starts late
        (a slow machine) still runs what was due at its slot.
        """
        slot = now_s if slot_s is None else slot_s
        due = [key for key, seconds in self.intervals().items() if self.is_due(key, seconds, slot)]
        samples: list[NewSample] = []
        if "host" in due and self.host:
            samples += self.host.collect(now_s)
        if "processes" in due and self.processes:
            samples += self.processes.collect(now_s)
        for outcome in self._scrape([k for k in due if k.startswith("scrape:")], now_s):
            samples += outcome.samples
        return samples

    def is_due(self, key: str, seconds: float, at_s: float) -> bool:
        """Return True when collector ``key`` (every ``seconds``) is due; book its next time.

        Due times stay on a grid (previous due + interval), so one slow tick does not
        push every later one back; a small slack absorbs a tick that wakes a few ms early.
        """
        due = self.next_due.get(key)
        if due is not None and at_s + min(0.05, seconds / 10) < due:
            return False
        following = at_s + seconds if due is None else due + seconds
        self.next_due[key] = following if following > at_s else at_s + seconds
        return True

    def _scrape(self, keys: list[str], now_s: float) -> list[ScrapeOutcome]:
        indexes = [int(k.split(":")[1]) for k in keys]
        targets = [self.config.collectors.scrapes[i] for i in indexes]
        if not targets:
            return []
        for index in indexes:
            cache = self.label_caches.setdefault(index, {})
            if len(cache) > LABEL_CACHE_LIMIT:  # a target whose label sets keep changing
                cache.clear()

        def one(index: int) -> ScrapeOutcome:
            target = self.config.collectors.scrapes[index]
            name, params = breaker_name(target), breaker_params(target)
            if self.breakers and not self.breakers.allows(name, now_s, params):
                return skipped(target, now_s=now_s, base=self.config.labels)
            outcome = scrape(
                target,
                self.client,
                now_s=now_s,
                base=self.config.labels,
                label_cache=self.label_caches[index],
            )
            if self.breakers:
                self.breakers.record(name, outcome.error is None, now_s, params)
            return outcome

        with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
            outcomes = list(pool.map(one, indexes))
        for target, outcome in zip(targets, outcomes, strict=True):
            if outcome.is_skipped:
                OWN_METRICS.count(SCRAPES_SKIPPED, job=target.job)
            elif outcome.error:
                OWN_METRICS.count(SCRAPE_FAILURES, job=target.job)
                log.warning("scrape of %s (%s) failed: %s", target.job, target.url, outcome.error)
        return outcomes


def host_target(config: VigilConfig) -> str:
    """Return the target name host metrics belong to: the configured one or this host's name."""
    return config.collectors.host.target or _safe_hostname()


class Tick(NamedTuple):
    """What one tick did: samples stored, and why the store refused the batch (or None)."""

    stored: int
    store_error: str | None = None


@task(cache_policy=NO_CACHE)
def collect_tick(
    collection: Collection,
    store: MetricStore,
    now: datetime,
    slot_s: float | None = None,
    *,
    backlog: Backlog,
) -> Tick:
    """Collect what is due at tick slot ``slot_s``, store it and the backlog as one batch.

    Samples are stamped ``now``. When the store cannot take the batch, its samples wait in
    ``backlog`` for the next tick (beyond the backlog's limit the oldest are dropped,
    logged and counted) and the returned Tick says why: the caller logs one line, where a
    raised error would log a traceback per tick for as long as the store is down. A tick
    that collects also writes its own samples (tasks/collect/own_health.py) unless
    ``self_watch`` is off.
    """
    fresh = collection.collect_due(now.timestamp(), slot_s)
    if fresh and collection.config.self_watch.enabled:
        fresh += collection.store_health.samples(now.timestamp(), collection.config.labels)
    samples = backlog.take() + fresh
    if not samples:
        return Tick(0)
    began = time.perf_counter()
    try:
        result = store_batch(store, samples, source="collect", now=now)
    except StoreError as exc:
        collection.store_health = StoreHealth(is_up=False)
        dropped = backlog.hold(samples)
        if dropped:
            OWN_METRICS.count(SAMPLES_DROPPED, dropped, source="collect")
            log.error("backlog full (%d samples): dropped the %d oldest", backlog.limit, dropped)
        return Tick(0, str(exc))
    collection.store_health = StoreHealth(True, time.perf_counter() - began)
    for rejection in result.rejected[:5]:
        log.warning("sample refused: %s (%r)", rejection.reason, rejection.sample)
    return Tick(result.accepted)
