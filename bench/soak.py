"""Soak benchmark: memory under a flood of distinct series; a month of a modest site.

    .venv/bin/python bench/soak.py [--series 1000000] [--days 30] [--pg URL]

Part 1 writes ``series`` distinct series through a MetricStore (the push server's write path)
and prints this process's RSS after 10 k and after all of them (target: under 2x).
"""

import argparse
import gc
import tempfile

import psutil

from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample

BATCH_SERIES = 10_000


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 1e6


def series_flood(url: str, series: int) -> tuple[float, float]:
    """Write ``series`` distinct series, 10 k a batch; return RSS (MB) after 10 k and at the end."""
    upgrade(url)
    store = MetricStore(make_engine(url))
    after_first = 0.0
    for batch in range(series // BATCH_SERIES):
        name = f"flood_{batch}"  # many names, as pushed metrics have
        result = store.write(
            NewSample(name, {"instance": f"i-{i}", "job": "flood"}, 1.0, float(i))
            for i in range(BATCH_SERIES)
        )
        assert result.accepted == BATCH_SERIES, result
        if batch == 0:
            after_first = rss_mb()
    store.engine.dispose()
    return after_first, rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = series_flood(f"sqlite:///{tmp}/flood.db", args.series)
    print(f"RSS after {BATCH_SERIES:,} series   {small:8.0f} MB")
    print(
        f"RSS after {args.series:,} series {large:8.0f} MB  ratio {large / small:.2f} (target < 2)"
    )


if __name__ == "__main__":
    main()
