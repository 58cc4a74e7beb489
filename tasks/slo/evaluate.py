"""Judge every SLO at ``now``, write its SLI, budget and burn rates, and tell alerting.

The burn-rate samples (``vigil_slo_burn_rate{slo, alert}``: the smaller of a pair's two
windows' rates) are what the generated rules (``models.config.slo.alert_rules``) watch,
so publishing them on the batch seam fires, resolves and notifies as any other series.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

from models.config.root import VigilConfig
from models.config.slo import BUDGET_SERIES, BURN_RATE_SERIES, SLI_SERIES
from models.db import make_engine
from models.store import MetricStore, NewSample
from tasks.alerting.subscribe import alerting_on_batches
from tasks.core.slo.budget import SloStatus
from tasks.slo.read import judge
from tasks.store.batch_hooks import BatchWritten, Subscriber, publish


def status_samples(status: SloStatus) -> list[NewSample]:
    """The status as samples: SLI (when known), budget remaining, one burn rate per pair."""
    name, at = status.objective.name, status.at
    samples = [NewSample(BUDGET_SERIES, {"slo": name}, at, status.budget_remaining)]
    if status.sli is not None:
        samples.append(NewSample(SLI_SERIES, {"slo": name}, at, status.sli))
    samples += [
        NewSample(BURN_RATE_SERIES, {"slo": name, "alert": burn.pair.name}, at, burn.rate)
        for burn in status.burns
    ]
    return samples


def evaluate_slos(
    config: VigilConfig,
    store: MetricStore,
    now: float,
    subscribers: list[Subscriber] | None = None,
) -> list[SloStatus]:
    """Judge, store and publish every SLO of ``config`` at ``now`` (epoch seconds).

    ``subscribers`` defaults to the process's batch subscribers (the alert engine).
    """
    statuses = [judge(store, slo, now) for slo in config.slos]
    samples = [sample for status in statuses for sample in status_samples(status)]
    if samples:
        result = store.write(samples)
        if result.rejected:
            raise ValueError(f"the store refused SLO samples: {result.rejected[0].reason}")
        publish(BatchWritten("slo", datetime.fromtimestamp(now, UTC), samples), subscribers)
    return statuses


def evaluate_at(config: VigilConfig, database_url: str, times: Iterable[datetime]) -> dict:
    """Evaluate ``config``'s SLOs at each of ``times`` with alerting listening; return counts."""
    db = make_engine(database_url)
    totals = {"evaluations": 0, "burning": 0}
    try:
        store = MetricStore(db)
        with alerting_on_batches(config, database_url):
            for now in times:
                statuses = evaluate_slos(config, store, now.timestamp())
                totals["evaluations"] += 1
                totals["burning"] += sum(b.is_burning for s in statuses for b in s.burns)
    finally:
        db.dispose()
    return totals
