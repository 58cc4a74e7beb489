"""Collection benchmark: collector CPU per tick, parse-and-store of a big page, push throughput.

    .venv/bin/python bench/collect.py [--processes 50] [--ticks 30] [--series 10000]
                                      [--push-batches 30] [--pg URL] 2>/dev/null

Figures go to stdout; Prefect's run logs (for the flow part) go to stderr.

1. CPU (user+system of this process) per collection tick: host metrics plus ``--processes``
   watched child processes (a third each by name, command-line pattern and pid file),
   including the store write. As a share of one core at a 10 s interval (target < 1 %).
   Also per tick inside the real collect flow (a Prefect task run per tick) under a
   temporary Prefect server (``--no-flow`` skips it).
2. Parse-and-store of a ``--series`` exposition page (counters, gauges, histograms):
   parse, label, write to the store; median of 5 pages once the series exist (target
   < 250 ms), plus the first page (series created) and the full scrape over HTTP.
3. Push throughput: the push endpoint served by uvicorn in a child process, fed
   10,000-sample Prometheus text batches over loopback; samples accepted and stored per
   second (target >= 50,000/s), checked against the rows in the store.
"""

import argparse
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import httpx
import psutil
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from models.config.collectors import ScrapeTarget
from models.config.root import VigilConfig
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tasks.collect.scrape import scrape
from tasks.collect.tick import Collection
from tasks.core.collect.exposition import parse_exposition
from tasks.store.batch import store_batch
from tasks.store.own_metrics import OwnMetrics

TOKEN = "bench-token"


def fresh_store(tmp: Path, name: str) -> MetricStore:
    url = f"sqlite:///{tmp / name}"
    upgrade(url)
    return MetricStore(make_engine(url))


# -- 1. collector CPU per tick --------------------------------------------------------


def start_children(tmp: Path, count: int) -> tuple[list[subprocess.Popen], list[dict]]:
    """Start ``count`` uniquely named sleepers; return them and the watches that find them."""
    token = uuid.uuid4().hex[:4]
    procs, watches = [], []
    for i in range(count):
        exe = tmp / f"vb{i:02d}{token}"
        shutil.copy("/bin/sleep", exe)
        proc = subprocess.Popen([str(exe), "600"])
        procs.append(proc)
        if i % 3 == 0:
            watches.append({"name": f"p{i}", "process_name": exe.name})
        elif i % 3 == 1:
            watches.append({"name": f"p{i}", "cmdline": f"{exe.name} 600$"})
        else:
            pid_file = tmp / f"p{i}.pid"
            pid_file.write_text(str(proc.pid))
            watches.append({"name": f"p{i}", "pid_file": str(pid_file)})
    return procs, watches


def cpu_per_tick(tmp: Path, watches: list[dict], ticks: int) -> tuple[float, float, int]:
    """Return (first tick CPU s, median CPU s of later ticks, samples per tick)."""
    config = VigilConfig.model_validate(
        {"collectors": {"host": {"target": "bench"}, "processes": {"watch": watches}}}
    )
    store = fresh_store(tmp, f"cpu-{len(watches)}.db")
    own = OwnMetrics()
    now_s = time.time()
    spent, count = [], 0
    with httpx.Client() as client:
        collection = Collection.from_config(config, client)
        for tick in range(ticks + 1):
            began = time.process_time()
            samples = collection.collect_due(now_s + 10 * tick)
            stamp = datetime.fromtimestamp(now_s + 10 * tick, UTC)
            store_batch(store, samples, source="collect", now=stamp, metrics=own)
            spent.append(time.process_time() - began)
            count = len(samples)
            time.sleep(0.02)  # let the children and the kernel counters move a little
    store.engine.dispose()
    return spent[0], statistics.median(spent[1:]), count


def flow_cpu_per_tick(tmp: Path, watches: list[dict], ticks: int) -> float:
    """Return this process's CPU s per tick of the real collect flow (Prefect task per tick)."""
    import yaml
    from prefect.testing.utilities import prefect_test_harness

    from flows.collect import collect
    from models.settings import serving

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    config = tmp / "flow.yaml"
    section = {"host": {"interval": "500ms"}, "processes": {"interval": "500ms", "watch": watches}}
    config.write_text(yaml.safe_dump({"collectors": section}))
    url = f"sqlite:///{tmp / 'flow.db'}"
    upgrade(url)
    with prefect_test_harness(server_startup_timeout=120), serving(config, url):
        collect(window_seconds=1.0)  # warm up: imports, first scan
        began = time.process_time()
        result = collect(window_seconds=ticks * 0.5)
        spent = time.process_time() - began
    assert result["ticks"] == ticks and result["failed_ticks"] == 0, result
    return spent / ticks


# -- 2. parse and store a big exposition page -----------------------------------------


def big_page(series: int, value: int) -> str:
    """An exposition page of ``series`` series: 40 % counters, 40 % gauges, 20 % buckets."""
    lines = ["# HELP app_requests_total Requests.", "# TYPE app_requests_total counter"]
    counters, gauges = series * 2 // 5, series * 2 // 5
    lines += [
        f'app_requests_total{{path="/p{i // 10}",code="{200 + i % 10}"}} {value + i}'
        for i in range(counters)
    ]
    lines += ["# TYPE app_queue_depth gauge"]
    lines += [f'app_queue_depth{{queue="q{i}"}} {(value * i) % 97}' for i in range(gauges)]
    lines += ["# TYPE app_latency_seconds histogram"]
    buckets = ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "+Inf"]
    rest = series - counters - gauges
    lines += [
        f'app_latency_seconds_bucket{{route="r{i // 9}",le="{buckets[i % 9]}"}} {value + i}'
        for i in range(rest)
    ]
    return "\n".join(lines) + "\n"


def parse_and_store(
    store: MetricStore, page: str, now_s: float, cache: dict[str, dict[str, str]]
) -> tuple[float, float]:
    """Parse ``page``, label it as a scrape would, write it; return (wall s, CPU s)."""
    labels = {"job": "bench", "instance": "127.0.0.1:1"}
    began, began_cpu = time.perf_counter(), time.process_time()
    parsed = parse_exposition(page, cache, lambda found: {**found, **labels})
    samples = [NewSample(s.name, s.labels, now_s, s.value, s.kind) for s in parsed.samples]
    result = store.write(samples)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    assert not result.rejected and result.accepted == len(samples), result.rejected[:3]
    return elapsed, cpu


def page_timings(store: MetricStore, series: int) -> tuple[float, float, float]:
    """Return (first page wall s, median wall s and median CPU s of the next 5 pages).

    The label cache is kept between pages, as the collector keeps one per scrape target.
    """
    now_s, cache = time.time(), {}
    first, _ = parse_and_store(store, big_page(series, 0), now_s, cache)
    later = [
        parse_and_store(store, big_page(series, n), now_s + 15 * n, cache) for n in range(1, 6)
    ]
    return first, statistics.median(w for w, _ in later), statistics.median(c for _, c in later)


def full_scrape_seconds(tmp: Path, series: int) -> float:
    """Median time of a real scrape over loopback HTTP (fetch, parse, label, store)."""
    body = big_page(series, 1).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=httpd.serve_forever, daemon=True).start()
    target = ScrapeTarget(job="bench", url=f"http://127.0.0.1:{httpd.server_address[1]}/metrics")
    store = fresh_store(tmp, "scrape.db")
    times = []
    cache: dict[str, dict[str, str]] = {}
    with httpx.Client() as client:
        for n in range(6):
            began = time.perf_counter()
            out = scrape(target, client, now_s=time.time() + n, base={}, label_cache=cache)
            store.write(out.samples)
            times.append(time.perf_counter() - began)
    httpd.shutdown()
    store.engine.dispose()
    return statistics.median(times[1:])


# -- 3. push throughput ---------------------------------------------------------------


def serve_push(url: str, port: int) -> None:
    """Child process: serve the push app for ``url`` on ``port``."""
    import uvicorn

    from tasks.collect.push_api import create_push_app

    store = MetricStore(make_engine(url))
    app = create_push_app(store, {TOKEN: "bench"}, max_body_bytes=50_000_000)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def push_throughput(
    url: str, batches: int, per_batch: int = 10_000
) -> tuple[float, float, float, int]:
    """Push ``batches`` text batches to a push server on ``url``.

    The first batch (which creates the series) is not timed. Returns samples/s by the
    wall clock, samples per second of server CPU, the median request time, and the rows.
    """
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve_push, args=(url, port))
    server.start()
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            _wait_until_up(client)
            start_ms = int(time.time() * 1000) - batches * 1000
            bodies = [
                "".join(
                    f'pushed_value{{source="s{i % 100}",n="{i}"}} {b + i} {start_ms + b * 1000}\n'
                    for i in range(per_batch)
                )
                for b in range(batches)
            ]
            accepted = _post(client, bodies[0])[0]
            server_process = psutil.Process(server.pid)
            cpu_before = sum(server_process.cpu_times()[:2])
            began, timed, latencies = time.perf_counter(), 0, []
            for body in bodies[1:]:
                count, seconds = _post(client, body)
                timed += count
                latencies.append(seconds)
            elapsed = time.perf_counter() - began
            server_cpu = sum(server_process.cpu_times()[:2]) - cpu_before
            accepted += timed
    finally:
        server.terminate()
        server.join(10)
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM sample")).scalar_one()
    engine.dispose()
    assert accepted == stored == batches * per_batch, (accepted, stored)
    return timed / elapsed, timed / server_cpu, statistics.median(latencies), stored


def _post(client: httpx.Client, body: str) -> tuple[int, float]:
    began = time.perf_counter()
    response = client.post("/api/v1/push", content=body, timeout=60)
    response.raise_for_status()
    return response.json()["accepted"], time.perf_counter() - began


def _wait_until_up(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            client.get("/healthz").raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_pg_database(admin_url: str) -> tuple[str, str]:
    name = f"vigil_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url, name


def drop_pg_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", type=int, default=50)
    parser.add_argument("--ticks", type=int, default=30)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--push-batches", type=int, default=30)
    parser.add_argument(
        "--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="'' to skip"
    )
    parser.add_argument(
        "--no-flow", action="store_true", help="skip the tick inside a real Prefect flow"
    )
    parser.add_argument(
        "--only", choices=["cpu", "pages", "push"], action="append", help="run only these parts"
    )
    args = parser.parse_args()
    parts = args.only or ["cpu", "pages", "push"]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if "cpu" in parts:
            report_cpu(tmp, args.processes, args.ticks, not args.no_flow)
        if "pages" in parts:
            report_pages(tmp, args.series, args.pg)
        if "push" in parts:
            report_push(tmp, args.push_batches, args.pg)


def report_cpu(tmp: Path, processes: int, ticks: int, with_flow: bool) -> None:
    procs, watches = start_children(tmp, processes)
    try:
        first, steady, samples = cpu_per_tick(tmp, watches, ticks)
        missing = [*watches, {"name": "absent", "process_name": "no-such-process"}]
        _, scanning, _ = cpu_per_tick(tmp, missing, ticks)
        in_flow = flow_cpu_per_tick(tmp, watches, ticks) if with_flow else None
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    print(f"collector CPU per tick: host + {processes} watched processes, {samples} samples")
    print(f"  first tick (process-table scan, series created)  {first * 1000:8.1f} ms CPU")
    print(
        f"  steady tick (median of {ticks})                      {steady * 1000:8.1f} ms CPU"
        f" = {steady / 10 * 100:.2f} % of one core at 10 s   (target < 1 %)"
    )
    print(
        f"  steady tick with one watch down (scan each tick)  {scanning * 1000:8.1f} ms CPU"
        f" = {scanning / 10 * 100:.2f} % of one core at 10 s"
    )
    if in_flow is not None:
        print(
            f"  tick inside the collect flow (+ Prefect task run) {in_flow * 1000:8.1f} ms CPU"
            f" = {in_flow / 10 * 100:.2f} % of one core at 10 s (flow process; server apart)"
        )


def report_pages(tmp: Path, series: int, pg: str) -> None:
    first, steady, cpu = page_timings(fresh_store(tmp, "page.db"), series)
    print(f"parse-and-store of a {series:,}-series exposition page")
    print(
        f"  SQLite, series known (median of 5)   {steady * 1000:8.1f} ms wall,"
        f" {cpu * 1000:.1f} ms CPU   (target < 250 ms)"
    )
    print(f"  SQLite, first page (series created)  {first * 1000:8.1f} ms wall")
    if pg:
        url, name = fresh_pg_database(pg)
        try:
            store = MetricStore(make_engine(url))
            pg_first, pg_steady, pg_cpu = page_timings(store, series)
            store.engine.dispose()
        finally:
            drop_pg_database(pg, name)
        print(
            f"  PostgreSQL, series known (median)    {pg_steady * 1000:8.1f} ms wall,"
            f" {pg_cpu * 1000:.1f} ms CPU (client side)"
        )
        print(f"  PostgreSQL, first page               {pg_first * 1000:8.1f} ms wall")
    scrape_s = full_scrape_seconds(tmp, series)
    print(f"  full scrape over loopback HTTP, SQLite {scrape_s * 1000:6.1f} ms wall (median of 5)")
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def report_push(tmp: Path, batches: int, pg: str) -> None:
    url = f"sqlite:///{tmp / 'push.db'}"
    upgrade(url)
    print(f"push endpoint on loopback, {batches} batches of 10,000 samples (Prometheus text)")
    print("  (first batch creates the series and is not timed; target >= 50,000 samples/s)")
    _print_push("SQLite", *push_throughput(url, batches))
    if pg:
        pg_url, name = fresh_pg_database(pg)
        try:
            result = push_throughput(pg_url, batches)
        finally:
            drop_pg_database(pg, name)
        _print_push("PostgreSQL", *result)
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def _print_push(backend: str, rate: float, per_cpu: float, latency: float, stored: int) -> None:
    print(
        f"  {backend:<10} {rate:>9,.0f} samples/s accepted and stored (wall clock); "
        f"{per_cpu:,.0f} per server CPU second; median request {latency * 1000:.0f} ms; "
        f"{stored:,} rows checked"
    )


if __name__ == "__main__":
    main()
