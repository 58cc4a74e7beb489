"""Which stored series the analytics flows work on."""

from models.config.root import VigilConfig
from models.store import MetricStore, SeriesInfo
from tasks.analytics.store import ANOMALY_METRIC

PROCESS_RSS = "process_resident_memory_bytes"  # written for every watched process


def analytics_series(store: MetricStore, selectors: list[str]) -> list[SeriesInfo]:
    """Series matching any selector, once each, never Vigil's own anomaly scores."""
    found: dict[int, SeriesInfo] = {}
    for selector in selectors:
        for info in store.find_series(selector):
            if info.name != ANOMALY_METRIC:
                found.setdefault(info.id, info)
    return [found[k] for k in sorted(found)]


def process_rss_series(store: MetricStore) -> list[SeriesInfo]:
    """The resident-memory series of every watched process (the memory-leak signal's input)."""
    return store.find_series(PROCESS_RSS)


def forecast_crossings(config: VigilConfig) -> list[tuple[str, float]]:
    """Return (selector, threshold) of every forecast alert rule, for the forecast flow."""
    return [
        (rule.series, rule.threshold)
        for rule in config.rules
        if rule.kind == "forecast" and rule.series and rule.threshold is not None
    ]
