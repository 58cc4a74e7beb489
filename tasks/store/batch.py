"""Write one batch to the store, then hand it to the batch-written seam (alerting subscribes)."""

import time
from collections.abc import Sequence
from datetime import datetime

from models.errors import StoreError
from models.store import MetricStore, NewSample, WriteResult
from tasks.store.batch_hooks import BatchWritten, publish
from tasks.store.own_metrics import OWN_METRICS, OwnMetrics
from tasks.store.shared_counters import (
    SAMPLES_COLLECTED,
    SAMPLES_REJECTED,
    STORE_WRITE_FAILURES,
    STORE_WRITE_SECONDS,
)


def store_batch(
    store: MetricStore,
    samples: Sequence[NewSample],
    *,
    source: str,
    now: datetime,
    metrics: OwnMetrics = OWN_METRICS,
) -> WriteResult:
    """Store ``samples`` in one write, count them (and its latency), publish what was kept.

    A refused write is counted and re-raised; the counts reach the store with the next
    batch it takes.
    """
    began = time.perf_counter()
    try:
        result = store.write(samples)
    except StoreError:
        metrics.count(STORE_WRITE_FAILURES, source=source)
        raise
    metrics.observe(STORE_WRITE_SECONDS, time.perf_counter() - began, source=source)
    refused = {r.index for r in result.rejected}
    kept = [s for i, s in enumerate(samples) if i not in refused] if refused else list(samples)
    metrics.count(SAMPLES_COLLECTED, result.accepted, source=source)
    metrics.count(SAMPLES_REJECTED, len(refused), source=source)
    metrics.flush(store.engine)
    publish(BatchWritten(source, now, kept))
    return result
