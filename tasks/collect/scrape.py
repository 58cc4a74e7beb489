"""Scrape a Prometheus ``/metrics`` endpoint; a failed scrape becomes ``up=0``, not a crash.

A target whose circuit breaker is open is not called: ``skipped`` records ``up=0`` at once.
"""

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from models.config.collectors import ScrapeTarget
from models.metrics import MetricKind
from models.store import NewSample
from tasks.core.collect.exposition import parse_exposition
from tasks.core.resilience.breaker import BreakerParams

ACCEPT = "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"
KINDS = {kind.value: kind for kind in MetricKind}


@dataclass
class ScrapeOutcome:
    """What one scrape produced: its samples (including ``up``) and the error if it failed."""

    samples: list[NewSample] = field(default_factory=list)
    error: str | None = None
    is_skipped: bool = False  # not called: its breaker is open


def instance_of(url: str) -> str:
    """Return the ``instance`` label of a scrape URL: its host and port.

    >>> instance_of("http://10.0.0.5:9100/metrics")
    '10.0.0.5:9100'
    """
    return urlsplit(url).netloc


def target_labels(target: ScrapeTarget, base: Mapping[str, str]) -> dict[str, str]:
    """Return the labels every series of ``target`` carries: base, its own, job and instance."""
    return {**base, **target.labels, "job": target.job, "instance": instance_of(target.url)}


def breaker_name(target: ScrapeTarget) -> str:
    """The name of a target's breaker: its job and host:port (never its credentials).

    >>> breaker_name(ScrapeTarget(job="node", url="http://u:pw@10.0.0.5:9100/metrics"))
    'node 10.0.0.5:9100'
    """
    return f"{target.job} {urlsplit(target.url).netloc.rpartition('@')[2]}"[:255]


def breaker_params(target: ScrapeTarget) -> BreakerParams:
    """The target's breaker settings as the pure breaker wants them."""
    return BreakerParams(target.breaker.failures, target.breaker.cooldown.total_seconds())


def skipped(target: ScrapeTarget, *, now_s: float, base: Mapping[str, str]) -> ScrapeOutcome:
    """The outcome of a scrape its open breaker held back: ``up`` 0, no call made."""
    labels = target_labels(target, base)
    return ScrapeOutcome(
        [NewSample("up", labels, now_s, 0.0)],
        f"circuit breaker open after repeated failures; {target.url} not called",
        is_skipped=True,
    )


def scrape(
    target: ScrapeTarget,
    client: httpx.Client,
    *,
    now_s: float,
    base: Mapping[str, str],
    label_cache: dict[str, dict[str, str]] | None = None,
) -> ScrapeOutcome:
    """GET ``target.url`` and return its series plus ``up`` and ``scrape_duration_seconds``.

    ``label_cache`` is this target's memory of label sets between scrapes (see
    ``parse_exposition``); the caller bounds its size.
    """
    labels = target_labels(target, base)
    out = ScrapeOutcome()
    began = time.perf_counter()
    try:
        response = client.get(
            target.url, timeout=target.timeout.total_seconds(), headers={"Accept": ACCEPT}
        )
        response.raise_for_status()
        page = parse_exposition(response.text, label_cache, lambda found: _merge(found, labels))
    except httpx.HTTPError as exc:
        out.error = f"{type(exc).__name__}: {exc}"
    else:
        out.samples = [
            NewSample(s.name, s.labels, _ts(s.timestamp_ms, now_s), s.value, KINDS[s.kind])
            for s in page.samples
            if not math.isnan(s.value)  # e.g. a summary quantile with no observations yet
        ]
    duration = time.perf_counter() - began
    out.samples.append(NewSample("up", labels, now_s, 0.0 if out.error else 1.0))
    out.samples.append(NewSample("scrape_duration_seconds", labels, now_s, duration, unit="s"))
    out.samples.append(NewSample("scrape_samples_scraped", labels, now_s, len(out.samples) - 2))
    return out


def _merge(exposed: dict[str, str], target: dict[str, str]) -> dict[str, str]:
    """Target labels win; an exposed label they shadow is kept as ``exported_<name>``."""
    if not exposed:
        return target
    merged = {(f"exported_{k}" if k in target else k): v for k, v in exposed.items()}
    merged.update(target)
    return merged


def _ts(timestamp_ms: int | None, now_s: float) -> float:
    return now_s if timestamp_ms is None else timestamp_ms / 1000
