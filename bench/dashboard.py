"""Dashboard benchmark: the Metrics page's 7-day chart over 10,000 series and 10 M samples.

    .venv/bin/python bench/dashboard.py [--series 10000] [--samples-per-series 1000] [--fresh]

Builds (once, then reuses) a SQLite store under /tmp with one metric of ``series`` series
(``host`` x ``core`` labels), one sample every 10 minutes for 7 days ending when it was built.
Prints the time to pick the series, query and bucket 7 days, and build the chart; and the time
of a whole Metrics page run in Streamlit's AppTest. The target is under 2 s.
"""

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import altair as alt

from app import charts
from models.config.collectors import Retention
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tasks import queries

NAME = "cpu_busy_ratio"
STEP_MS = 600_000  # one sample per 10 minutes: 1,008 samples cover 7 days
MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


def labels(index: int) -> dict[str, str]:
    return {"host": f"host-{index // 20:03}", "core": str(index % 20)}


def build(path: Path, series: int, per_series: int) -> None:
    """Create the series through the store, then bulk-insert samples in key order."""
    url = f"sqlite:///{path}"
    upgrade(url)
    end_ms = int(time.time() * 1000) // STEP_MS * STEP_MS
    engine = make_engine(url)
    MetricStore(engine).write(
        [NewSample(NAME, labels(i), end_ms / 1000, 0.0) for i in range(series)]
    )
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    ids = [row[0] for row in con.execute("SELECT id FROM series ORDER BY id")]
    began = time.perf_counter()
    for series_id in ids:
        rows = (
            (series_id, end_ms - k * STEP_MS, ((series_id * 7 + k) % 100) / 100)
            for k in range(per_series - 1, 0, -1)
        )
        con.executemany("INSERT INTO sample VALUES (?, ?, ?)", rows)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    total = len(ids) * per_series
    elapsed = time.perf_counter() - began
    print(f"built {path}: {len(ids):,} series, {total:,} samples in {elapsed:.0f}s")


def timed(fn, repeat: int = 5) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    runs, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), result


def query_and_chart(engine, chosen: dict[str, list[str]]) -> int:  # type: ignore[no-untyped-def]
    """What the Metrics page does for one selection, minus Streamlit."""
    end = datetime.now(UTC)
    series = queries.metrics.find_series(engine, queries.metrics.build_selector(NAME, chosen))[:20]
    start = end - timedelta(days=7)
    resolution = queries.metrics.history_resolution(start, end, now=end, retention=Retention())
    frame = queries.metrics.series_history(engine, series, start, end, resolution=resolution).frame
    with alt.data_transformers.disable_max_rows():  # as st.altair_chart does
        charts.history_chart(frame).to_dict()
    return len(frame)


def page_run(url: str, chosen: dict[str, list[str]]) -> float:
    """Median AppTest run of the Metrics page with the 7-day preset and ``chosen`` labels."""
    from streamlit.testing.v1 import AppTest

    os.environ["VIGIL_DATABASE_URL"] = url
    os.environ["VIGIL_CONFIG_PATH"] = str(Path(tempfile.gettempdir()) / "no-vigil.yaml")
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    at.switch_page("views/metrics.py").run()
    at.selectbox(key="range").select("Last 7 days")
    for label, values in chosen.items():
        at.multiselect(key=f"label:{NAME}:{label}").set_value(values)
    at.run()  # warm: caches, imports
    elapsed, _ = timed(at.run)
    assert not at.exception, at.exception
    assert at.get("vega_lite_chart"), [e.value for e in at.info]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--samples-per-series", type=int, default=1_000)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached store")
    args = parser.parse_args()
    path = (
        Path(tempfile.gettempdir())
        / f"vigil-bench-dashboard-{args.series}x{args.samples_per_series}.db"
    )
    stale = path.exists() and time.time() - path.stat().st_mtime > 86400
    if args.fresh or stale or not path.exists():
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        build(path, args.series, args.samples_per_series)
    url = f"sqlite:///{path}"
    upgrade(url)  # a cached store built before newer migrations gets their tables
    engine = make_engine(url)
    with engine.connect() as conn:
        samples = conn.exec_driver_sql("SELECT COUNT(*) FROM sample").scalar()
    print(f"store: {queries.metrics.store_counts(engine)['series']:,} series, {samples:,} samples")
    cases = {
        "1 series (host, core picked)": {"host": ["host-123"], "core": ["7"]},
        "20 series (host picked)": {"host": ["host-123"]},
        "20 of 10,000 series (nothing picked)": {},
    }
    for title, chosen in cases.items():
        seconds, points = timed(lambda chosen=chosen: query_and_chart(engine, chosen))
        page = page_run(url, chosen)
        print(
            f"7-day chart, {title}: query+chart {seconds * 1000:.0f} ms ({points} points), "
            f"AppTest page run {page * 1000:.0f} ms  (target < 2000 ms)"
        )
    seconds, _ = timed(lambda: queries.metrics.last_sample_at(engine))
    print(f"Overview's last-sample lookup: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
