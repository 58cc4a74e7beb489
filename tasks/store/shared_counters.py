"""Counters kept in the store, so every Vigil process adds to the same ones.

Flow runs, the push server and the dashboard are separate processes (Prefect may even
start a fresh process per flow run), so an in-memory counter dies with its process and
is seen only by the ``/metrics`` of that process. Each event instead adds to its row in
``own_counter`` inside the transaction that records the event (the counter moves if and
only if the event is stored), and every ``/metrics`` reads the table when scraped.
"""

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from models.own_metrics import OwnCounter

log = logging.getLogger(__name__)

COUNTER = OwnCounter.__table__  # type: ignore[attr-defined]

CHECKS_RUN = "vigil_checks_run"
ALERTS_FIRED = "vigil_alerts_raised"
ALERTS_RESOLVED = "vigil_alerts_resolved"
NOTIFICATIONS_SENT = "vigil_notifications_sent"
NOTIFICATIONS_FAILED = "vigil_notifications_failed"
RECOVERIES_RUN = "vigil_recoveries_run"
RETENTION_DELETED = "vigil_retention_rows_deleted"

HELP = {
    CHECKS_RUN: "Health checks run, by the state they found (late runs are not probed).",
    ALERTS_FIRED: "Alerts that started firing, by severity.",
    ALERTS_RESOLVED: "Firing alerts that resolved, by severity.",
    NOTIFICATIONS_SENT: "Notifications delivered, by channel.",
    NOTIFICATIONS_FAILED: "Delivery attempts that failed, by channel and whether it is retried.",
    RECOVERIES_RUN: "Recovery runs that ended, by procedure and outcome.",
    RETENTION_DELETED: "Rows retention deleted (all but samples and rollups), by table.",
}
"""Every shared counter; each is listed on ``/metrics`` (HELP and TYPE) before its first event."""

Increment = tuple[str, Mapping[str, str], float]
"""A counter's name, its labels and how much to add."""


def add(conn: Connection, increments: Iterable[Increment]) -> None:
    """Add ``increments`` to their counters within the caller's transaction."""
    merged: dict[tuple[str, str], float] = {}
    for name, labels, amount in increments:
        if name not in HELP:
            raise ValueError(f"unknown shared counter {name!r}; add it to HELP")
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
    """Expose the store's counters and each target's newest health score when scraped.

    When the store cannot be read, ``vigil_own_metrics_readable`` is 0 and the
    in-process metrics are still served.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            stored = read(self.engine)
            scores = _target_scores(self.engine)
        except SQLAlchemyError as exc:
            log.warning("own metrics: the store could not be read: %s", exc)
            yield _readable(False)
            return
        yield _readable(True)
        for name, help_text in HELP.items():
            yield _counter(name, help_text, stored.get(name, {}))
        gauge = GaugeMetricFamily(
            "vigil_health_score", "Newest health score per target, 0 to 100.", labels=["target"]
        )
        for target, score in scores:
            gauge.add_metric([target], score)
        yield gauge


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
    # Imported here: the status queries bring pandas, which the push server otherwise never loads.
    from tasks.checks.status_store import newest_scores

    return [
        (row["node"], row["score"])
        for row in newest_scores(engine, ("target",))
        if row["score"] is not None
    ]
