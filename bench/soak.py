"""Soak benchmark: memory under a flood of distinct series; a month of a modest site.

    .venv/bin/python bench/soak.py [--series 1000000] [--days 30] [--step 3600]
                                      [--maintenance-every 12] [--keep-days 14] [--pg URL]

Part 1 writes ``series`` distinct series through a MetricStore (the push server's write path)
and prints this process's RSS after 10 k and after all of them (target: under 2x).

Part 2 (bench/soak_site.py) writes ``days`` simulated days of a modest site on SQLite and on
PostgreSQL and prints the store size and the p95 of the dashboard's queries and of rule
evaluation on days 10, 20 and 30, and each table's size with its indexes on those days; the
last two lines are JSON (PostgreSQL, then SQLite). Retention is Vigil's default with every
period capped at ``--keep-days`` (14), so days 20 to 30 are the steady state the size target
is about; ``--keep-days 0`` keeps the defaults (400 days of hourly rollups and access audit,
90 of alerts and recoveries, which grow all month) and also prints the ratio without them.
"""

import argparse
import gc
import json
import tempfile

import psutil
from soak_site import SiteShape, scratch_postgres, soak

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
    parser.add_argument("--series", type=int, default=1_000_000, help="0: skip the flood")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--step", type=float, default=3600.0, help="simulated seconds between rounds (site: 30)"
    )
    parser.add_argument(
        "--maintenance-every", type=int, default=12, help="simulated hours (deployment: 1)"
    )
    parser.add_argument(
        "--keep-days", type=int, default=14, help="cap every retention (0: Vigil's defaults)"
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.series:
        with tempfile.TemporaryDirectory() as tmp:
            small, large = series_flood(f"sqlite:///{tmp}/flood.db", args.series)
        print(f"RSS after {BATCH_SERIES:,} series   {small:8.0f} MB")
        print(
            f"RSS after {args.series:,} series {large:8.0f} MB  "
            f"ratio {large / small:.2f} (target < 2)"
        )
    shape = SiteShape(args.days, args.step, args.maintenance_every, args.keep_days or None)
    print(shape.describe())
    lines = []
    with scratch_postgres(args.pg) as pg_url:
        lines.append(soak("postgresql", pg_url, shape))
    with tempfile.TemporaryDirectory() as tmp:
        lines.append(soak("sqlite", f"sqlite:///{tmp}/soak.db", shape))
    for line in lines:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
