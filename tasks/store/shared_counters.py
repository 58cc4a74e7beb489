"""Counters kept in the store, so every Vigil process adds to the same ones.

Flow runs, the push server and the dashboard are separate processes (Prefect may even
start a fresh process per flow run), so an in-memory counter dies with its process and
is seen only by the ``/metrics`` of that process. Each event instead adds to its row in
``own_counter`` inside the transaction that records the event (the counter moves if and
only if the event is stored), and every ``/metrics`` reads the table when scraped.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from models.alerting import ChannelBreaker, DeliveryStatus, Notification
from models.breakers import CalleeBreaker
from models.own_metrics import OwnCounter

log = logging.getLogger(__name__)

COUNTER = OwnCounter.__table__  # type: ignore[attr-defined]
BREAKER = ChannelBreaker.__table__  # type: ignore[attr-defined]
CALLEES = CalleeBreaker.__table__  # type: ignore[attr-defined]
OUTBOX = Notification.__table__  # type: ignore[attr-defined]
BREAKER_VALUE = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
UNDELIVERED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)

CHECKS_RUN = "vigil_checks_run"
ALERTS_FIRED = "vigil_alerts_raised"
ALERTS_RESOLVED = "vigil_alerts_resolved"
NOTIFICATIONS_SENT = "vigil_notifications_sent"
NOTIFICATIONS_FAILED = "vigil_notifications_failed"
RECOVERIES_RUN = "vigil_recoveries_run"
RETENTION_DELETED = "vigil_retention_rows_deleted"
SAMPLES_COLLECTED = "vigil_samples_collected"
SAMPLES_REJECTED = "vigil_samples_rejected"
SAMPLES_DROPPED = "vigil_samples_dropped"
STORE_WRITE_FAILURES = "vigil_store_write_failures"
SCRAPE_FAILURES = "vigil_scrape_failures"
CHECKS_LATE = "vigil_checks_late"
NOTIFICATIONS_RATE_LIMITED = "vigil_notifications_rate_limited"
NOTIFICATIONS_HELD = "vigil_notifications_held"
SCRAPES_SKIPPED = "vigil_scrapes_skipped"
FLOW_RUN_SECONDS = "vigil_flow_run_duration_seconds"
STORE_WRITE_SECONDS = "vigil_store_write_seconds"

HELP = {
    CHECKS_RUN: "Health checks run, by the state they found (late runs are not probed).",
    ALERTS_FIRED: "Alerts that started firing, by severity.",
    ALERTS_RESOLVED: "Firing alerts that resolved, by severity.",
    NOTIFICATIONS_SENT: "Notifications delivered, by channel.",
    NOTIFICATIONS_FAILED: "Delivery attempts that failed, by channel and whether it is retried.",
    RECOVERIES_RUN: "Recovery runs that ended, by procedure and outcome.",
    RETENTION_DELETED: "Rows retention deleted, by table.",
    SAMPLES_COLLECTED: "Samples stored, by source.",
    SAMPLES_REJECTED: "Samples refused, by source.",
    SAMPLES_DROPPED: "Samples lost because the store stayed unavailable, by source.",
    STORE_WRITE_FAILURES: "Batches the store could not take (unreachable, locked), by source.",
    SCRAPE_FAILURES: "Scrapes that failed, by job.",
    CHECKS_LATE: "Health checks Vigil could not start on time (it is overloaded); not probed.",
    NOTIFICATIONS_RATE_LIMITED: "Notices a channel's hourly rate limit kept back, by channel.",
    NOTIFICATIONS_HELD: "Delivery passes a channel's open breaker held back, by channel.",
    SCRAPES_SKIPPED: "Scrapes not tried because the target's breaker is open, by job.",
}
"""Every shared counter; each is listed on ``/metrics`` (HELP and TYPE) before its first event."""

SUMMARIES = {
    FLOW_RUN_SECONDS: "Flow runs and their durations, by flow and outcome.",
    STORE_WRITE_SECONDS: "Sample batch writes and their latency, by source.",
}
"""Durations kept as a ``_sum`` and a ``_count`` counter each (a Prometheus summary)."""

Increment = tuple[str, Mapping[str, str], float]
"""A counter's name, its labels and how much to add."""


def observation(name: str, labels: Mapping[str, str], seconds: float) -> list[Increment]:
    """The increments that record one duration of summary ``name``."""
    return [(f"{name}_sum", labels, seconds), (f"{name}_count", labels, 1.0)]


def is_known(name: str) -> bool:
    return name in HELP or name.removesuffix("_sum").removesuffix("_count") in SUMMARIES


def add(conn: Connection, increments: Iterable[Increment]) -> None:
    """Add ``increments`` to their counters within the caller's transaction."""
    merged: dict[tuple[str, str], float] = {}
    for name, labels, amount in increments:
        if not is_known(name):
            raise ValueError(f"unknown shared counter {name!r}; add it to HELP or SUMMARIES")
        key = (name, json.dumps(dict(labels), sort_keys=True))
        merged[key] = merged.get(key, 0.0) + amount
    if not merged:
        return
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(COUNTER)
    upsert = statement.on_conflict_do_update(
        index_elements=["name", "labels"],
        set_={"value": COUNTER.c.value + statement.excluded.value},
    )
    # Sorted, so two transactions take the rows' locks in one order (no deadlock).
    rows = [{"name": n, "labels": lb, "value": v} for (n, lb), v in sorted(merged.items())]
    conn.execute(upsert, rows)


def read(engine: Engine) -> dict[str, dict[str, float]]:
    """Return ``{name: {labels JSON: value}}`` of every stored counter."""
    found: dict[str, dict[str, float]] = {}
    with engine.connect() as conn:
        for name, labels, value in conn.execute(
            select(COUNTER.c.name, COUNTER.c.labels, COUNTER.c.value)
        ):
            found.setdefault(name, {})[labels] = value
    return found


class SharedCounters(Collector):
    """Expose the store's counters, summaries and gauges read from the store when scraped.

    Gauges: each target's newest health score, each channel's breaker state, the outbox's
    depth and the age of its oldest undelivered notice. When the store cannot be read,
    ``vigil_own_metrics_readable`` is 0 and nothing else is served.
    """

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        try:
            stored = read(self.engine)
            scores = _target_scores(self.engine)
            gauges = store_gauges(self.engine, self.clock())
        except SQLAlchemyError as exc:
            log.warning("own metrics: the store could not be read: %s", exc)
            yield _readable(False)
            return
        yield _readable(True)
        for name, help_text in HELP.items():
            yield _counter(name, help_text, stored.get(name, {}))
        for name, help_text in SUMMARIES.items():
            yield _summary(name, help_text, stored)
        gauge = GaugeMetricFamily(
            "vigil_health_score", "Newest health score per target, 0 to 100.", labels=["target"]
        )
        for target, score in scores:
            gauge.add_metric([target], score)
        yield gauge
        yield from gauges


def store_gauges(engine: Engine, now_s: float) -> list[Metric]:
    """Breaker state per channel and per scrape target or recovery step, outbox depth and the
    oldest undelivered notice's age."""
    with engine.connect() as conn:
        states = conn.execute(select(BREAKER.c.channel, BREAKER.c.state)).all()
        callees = conn.execute(select(CALLEES.c.kind, CALLEES.c.name, CALLEES.c.state)).all()
        depth, age = outbox_backlog(conn, now_s)
    breaker = GaugeMetricFamily(
        "vigil_channel_breaker_state",
        "Circuit breaker of each notification channel: 0 closed, 1 half-open, 2 open.",
        labels=["channel"],
    )
    for channel, state in sorted(states):
        breaker.add_metric([channel], BREAKER_VALUE.get(state, 0.0))
    callee = GaugeMetricFamily(
        "vigil_breaker_state",
        "Circuit breaker of each scrape target and recovery HTTP step: "
        "0 closed, 1 half-open, 2 open.",
        labels=["kind", "name"],
    )
    for kind, name, state in sorted(callees):
        callee.add_metric([kind, name], BREAKER_VALUE.get(state, 0.0))
    return [
        breaker,
        callee,
        GaugeMetricFamily(
            "vigil_outbox_depth", "Notices waiting to be delivered (pending or sending).", depth
        ),
        GaugeMetricFamily(
            "vigil_outbox_oldest_age_seconds",
            "Age of the oldest undelivered notice; 0 when none waits.",
            age,
        ),
    ]


def outbox_backlog(conn: Connection, now_s: float) -> tuple[int, float]:
    """Undelivered notices and the age in seconds of the oldest (0 when none waits)."""
    depth, oldest = conn.execute(
        select(func.count(), func.min(OUTBOX.c.created_at)).where(OUTBOX.c.status.in_(UNDELIVERED))
    ).one()
    return depth, 0.0 if oldest is None else max(0.0, now_s - _epoch(oldest))


def _epoch(moment: datetime) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.timestamp()


def _summary(name: str, help_text: str, stored: Mapping[str, Mapping[str, float]]) -> Metric:
    family = SummaryMetricFamily(name, help_text)
    counts, sums = stored.get(f"{name}_count", {}), stored.get(f"{name}_sum", {})
    for labels in sorted(counts):
        family.samples.append(Sample(f"{name}_count", json.loads(labels), counts[labels]))
        family.samples.append(Sample(f"{name}_sum", json.loads(labels), sums.get(labels, 0.0)))
    return family


def _counter(name: str, help_text: str, values: Mapping[str, float]) -> Metric:
    family = CounterMetricFamily(name, help_text)
    for labels, value in sorted(values.items()):
        family.samples.append(Sample(f"{name}_total", json.loads(labels), value))
    return family


def _readable(ok: bool) -> Metric:
    return GaugeMetricFamily(
        "vigil_own_metrics_readable",
        "1 when the shared counters could be read from the store.",
        value=float(ok),
    )


def _target_scores(engine: Engine) -> list[tuple[str, Any]]:
    # Imported here: tasks.checks imports this module.
    from tasks.checks.status_store import newest_scores

    return [
        (row["node"], row["score"])
        for row in newest_scores(engine, ("target",))
        if row["score"] is not None
    ]
