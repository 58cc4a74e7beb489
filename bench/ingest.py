"""Ingest benchmark: the store against a raw sqlite3.executemany baseline, same rows, same run.

    .venv/bin/python bench/ingest.py [--samples 1000000] [--series 10000] [--pg URL]

Writes ``samples`` over ``series`` in ticks (one sample per series per tick, as collection
does), on SQLite and PostgreSQL, and reads the last hour of one series.
"""

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample

START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
STEP_S = 60


def ticks(samples: int, series: int) -> list[list[NewSample]]:
    """One batch per tick, each with one sample of every series."""
    labels = [{"host": f"host-{i // 20}", "core": str(i % 20)} for i in range(series)]
    return [
        [
            NewSample("cpu_busy_ratio", labels[i], START + t * STEP_S, (i * t) % 97 / 97)
            for i in range(series)
        ]
        for t in range(samples // series)
    ]


def raw_sqlite(path: Path, batches: list[list[NewSample]]) -> float:
    """Baseline: plain sqlite3 executemany of the same (series_id, ts_ms, value) rows."""
    rows = [[(i + 1, round(s.ts * 1000), s.value) for i, s in enumerate(b)] for b in batches]
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE sample (series_id INTEGER, ts_ms BIGINT, value FLOAT, "
        "PRIMARY KEY (series_id, ts_ms)) WITHOUT ROWID"
    )
    began = time.perf_counter()
    for batch in rows:
        with con:
            con.executemany("INSERT INTO sample VALUES (?, ?, ?)", batch)
    elapsed = time.perf_counter() - began
    con.close()
    return elapsed


def through_store(url: str, batches: list[list[NewSample]]) -> tuple[float, MetricStore]:
    upgrade(url)
    store = MetricStore(make_engine(url))
    began = time.perf_counter()
    for batch in batches:
        result = store.write(batch)
        assert not result.rejected, result.rejected[:3]
    return time.perf_counter() - began, store


def last_hour_read_ms(store: MetricStore, end: float, expected_rows: int) -> float:
    """Median of 20 reads of the last hour of one series."""
    stop = datetime.fromtimestamp(end, UTC)
    times = []
    for _ in range(20):
        began = time.perf_counter()
        frame = store.query_range(
            'cpu_busy_ratio{host="host-250", core="7"}', stop - timedelta(hours=1), stop
        )
        times.append((time.perf_counter() - began) * 1000)
        assert len(frame) == expected_rows, len(frame)
    return statistics.median(times)


def fresh_pg_database(admin_url: str) -> tuple[str, str]:
    name = f"vigil_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument(
        "--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="'' to skip"
    )
    args = parser.parse_args()
    batches = ticks(args.samples, args.series)
    total = sum(len(b) for b in batches)
    end = batches[-1][0].ts
    print(f"{total:,} samples over {args.series:,} series in {len(batches)} ticks")
    with tempfile.TemporaryDirectory() as tmp:
        raw_s = raw_sqlite(Path(tmp) / "raw.db", batches)
        store_s, store = through_store(f"sqlite:///{tmp}/store.db", batches)
        read_ms = last_hour_read_ms(store, end, min(61, len(batches)))
        store.engine.dispose()
    print(f"raw sqlite3.executemany  {total / raw_s:>12,.0f} samples/s")
    ratio = raw_s / store_s
    print(f"store on SQLite          {total / store_s:>12,.0f} samples/s  ratio to raw {ratio:.2f}")
    print("                         (target: ratio >= 0.5)")
    print(f"last-hour read, SQLite   {read_ms:>12.1f} ms (median of 20; target < 50 ms)")
    if args.pg:
        url, name = fresh_pg_database(args.pg)
        try:
            pg_s, pg_store = through_store(url, batches)
            pg_read_ms = last_hour_read_ms(pg_store, end, min(61, len(batches)))
            pg_store.engine.dispose()
        finally:
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"store on PostgreSQL      {total / pg_s:>12,.0f} samples/s   (target >= 100,000)")
        print(f"last-hour read, Postgres {pg_read_ms:>12.1f} ms (median of 20)")


if __name__ == "__main__":
    main()
