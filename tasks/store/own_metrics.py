"""Vigil's own operational metrics, exposed in the Prometheus format on ``/metrics``.

These are counted in the memory of the process where the thing happens (a push is
refused, a channel's breaker opens); the registry is passed in, so tests use their own.
Counters that must add up across Vigil's processes (checks run, alerts, notifications,
recoveries) live in the store instead: see ``tasks.store.shared_counters``.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class OwnMetrics:
    """Counters and gauges about Vigil itself, in one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.samples_collected = Counter(
            "vigil_samples_collected", "Samples stored, by source.", ["source"], registry=r
        )
        self.samples_rejected = Counter(
            "vigil_samples_rejected", "Samples refused, by source.", ["source"], registry=r
        )
        self.samples_dropped = Counter(
            "vigil_samples_dropped",
            "Samples lost because the store stayed unavailable, by source.",
            ["source"],
            registry=r,
        )
        self.store_write_failures = Counter(
            "vigil_store_write_failures",
            "Batches the store could not take (unreachable, locked), by source.",
            ["source"],
            registry=r,
        )
        self.scrape_failures = Counter(
            "vigil_scrape_failures", "Scrapes that failed, by job.", ["job"], registry=r
        )
        self.checks_late = Counter(
            "vigil_checks_late",
            "Health checks Vigil could not start on time (it is overloaded); not probed.",
            registry=r,
        )
        self.channel_breaker = Gauge(
            "vigil_channel_breaker_state",
            "Circuit breaker of each notification channel: 0 closed, 1 half-open, 2 open.",
            ["channel"],
            registry=r,
        )
        self.breaker = Gauge(
            "vigil_breaker_state",
            "Circuit breaker of each scrape target and recovery HTTP step: "
            "0 closed, 1 half-open, 2 open.",
            ["kind", "name"],
            registry=r,
        )
        self.scrapes_skipped = Counter(
            "vigil_scrapes_skipped",
            "Scrapes not tried because the target's breaker is open, by job.",
            ["job"],
            registry=r,
        )
        self.notifications_rate_limited = Counter(
            "vigil_notifications_rate_limited",
            "Notices a channel's hourly rate limit kept back (summarised instead).",
            ["channel"],
            registry=r,
        )

    def exposition(self) -> bytes:
        """Return every metric in the Prometheus text format."""
        return generate_latest(self.registry)


OWN_METRICS = OwnMetrics()
"""The process-wide instance the flows and the push endpoint update."""
