"""Write one batch to the store, then hand it to the batch-written seam (alerting subscribes)."""

from collections.abc import Sequence
from datetime import datetime

from models.store import MetricStore, NewSample, WriteResult
from tasks.store.batch_hooks import BatchWritten, publish
from tasks.store.own_metrics import OWN_METRICS, OwnMetrics


def store_batch(
    store: MetricStore,
    samples: Sequence[NewSample],
    *,
    source: str,
    now: datetime,
    metrics: OwnMetrics = OWN_METRICS,
) -> WriteResult:
    """Store ``samples`` in one write, count them, and publish what was kept."""
    result = store.write(samples)
    refused = {r.index for r in result.rejected}
    kept = [s for i, s in enumerate(samples) if i not in refused] if refused else list(samples)
    metrics.samples_collected.labels(source).inc(result.accepted)
    metrics.samples_rejected.labels(source).inc(len(refused))
    publish(BatchWritten(source, now, kept))
    return result
