"""Health check benchmark: 1,000 HTTP checks against a local server that answers in 10 ms.

    .venv/bin/python bench/checks.py [--checks 1000] [--seconds 30] [--concurrency 200]
                                     [--baseline 8] [--pg URL]

The server runs in its own process (uvicorn). Each phase runs first with ``--baseline``
checks in flight, then with ``--concurrency`` (the default config's 200), in one command:
  1. probes only: that many checks kept in flight through the real runner (timeouts, retries);
  2. the full window loop: probes, soft/hard states, scores, results and samples stored in
     the store (SQLite file, or PostgreSQL with --pg), batches published to the alert seam.
Prints checks/min, p50/p95 check latency, the CPU used by Vigil (per probed check) and by
the server, failed and late checks; the last line is JSON with the figures issue 22 asks
for: no failed check at 200 in flight, and CPU per check within 1.5x of the 8-in-flight run.
Targets from issue 4: >= 10,000 checks/min with p95 < 100 ms.
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.config import parse_config  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.store import MetricStore  # noqa: E402
from tasks.checks.context import ProbeContext  # noqa: E402
from tasks.checks.runner import run_check  # noqa: E402
from tasks.checks.store import CheckStore  # noqa: E402
from tasks.checks.window import CheckWindow  # noqa: E402

ANSWER_DELAY_S = 0.010


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    """A health endpoint that takes 10 ms."""
    if scope["type"] != "http":
        return
    await asyncio.sleep(ANSWER_DELAY_S)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})


def start_server(port: int) -> subprocess.Popen:
    """Start uvicorn serving ``app`` on 127.0.0.1:port and wait until it answers."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.checks:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the benchmark server did not start")


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """Create a throw-away database on the PostgreSQL server at ``server_url``; drop it after."""
    admin = make_url(server_url).set(drivername="postgresql")
    name = f"vigil_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def config_text(checks: int, port: int, concurrency: int) -> str:
    lines = [f"health: {{max_concurrency: {concurrency}, score_interval: 10s}}", "checks:"]
    for i in range(checks):
        lines.append(
            f"  - {{name: c{i}, type: http, target: t{i % 50}, interval: 1s, timeout: 5s, "
            f"url: 'http://127.0.0.1:{port}/health/{i}', body_contains: ok}}"
        )
    return "\n".join(lines) + "\n"


@dataclass
class Run:
    """What one phase saw: latencies of the probed checks, failures, late (not probed) runs."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    late: int = 0


async def probes_only(config, seconds: float) -> Run:
    """Keep ``max_concurrency`` checks in flight for ``seconds`` through the real runner.

    Each of that many workers runs the next check as soon as its last one is done, so
    no run waits for a slot (waiting is the full loop's business, where it makes a run late).
    """
    in_flight = config.health.max_concurrency
    ctx = ProbeContext(max_connections=in_flight)
    slots = asyncio.Semaphore(in_flight)
    run = Run()
    deadline = time.perf_counter() + seconds
    checks = itertools.cycle(config.checks)

    async def worker() -> None:
        while time.perf_counter() < deadline:
            outcome = await run_check(next(checks), ctx, datetime.now(UTC), slots)
            if outcome.is_late:
                run.late += 1
                continue
            run.latencies.append(outcome.latency_ms or 0.0)
            if not outcome.is_passing:
                run.failures.append(outcome.message)

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    await ctx.aclose()
    return run


async def full_window(config, url: str, seconds: float) -> Run:
    """Run the real window loop for ``seconds``; read back what it stored."""
    engine = make_engine(url)
    store = MetricStore(engine)
    ctx = ProbeContext(store=store)
    window = CheckWindow(
        config, CheckStore(engine, store), ctx, clock=lambda: datetime.now(UTC), tick_s=1.0
    )
    await window.run(seconds)
    await ctx.aclose()
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT latency_ms, status, message FROM check_result").all()
    engine.dispose()
    run = Run(late=sum(status == "late" for _, status, _ in rows))
    run.latencies = [latency for latency, status, _ in rows if status != "late"]
    run.failures = [message for _, status, message in rows if status not in ("up", "late")]
    return run


@dataclass
class Figures:
    """A phase's figures; CPU per check counts the probed checks (late ones cost ~nothing)."""

    checks: int
    failed: int
    late: int
    p95_ms: float
    cpu_ms_per_check: float


def measure(label: str, phase, server: psutil.Process) -> Figures:  # type: ignore[no-untyped-def]
    me = psutil.Process()
    cpu0, server0, wall0 = me.cpu_times(), server.cpu_times(), time.perf_counter()
    run = phase()
    wall = time.perf_counter() - wall0
    cpu1, server1 = me.cpu_times(), server.cpu_times()
    cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    server_cpu = (server1.user + server1.system) - (server0.user + server0.system)
    cuts = statistics.quantiles(run.latencies, n=100)
    cpu_ms = cpu / len(run.latencies) * 1000
    print(
        f"{label:34} {len(run.latencies) / wall * 60:>7,.0f} checks/min  "
        f"p50 {cuts[49]:6.1f} ms  p95 {cuts[94]:6.1f} ms  "
        f"CPU {cpu:4.1f} s = {cpu / wall:4.0%} of a core, {cpu_ms:.2f} ms/check  "
        f"server CPU {server_cpu:4.1f} s  wall {wall:.1f} s  "
        f"failed {len(run.failures)}  late {run.late}"
    )
    if run.failures:
        print(f"  e.g. {run.failures[0]!r}")
    return Figures(len(run.latencies), len(run.failures), run.late, cuts[94], cpu_ms)


def run_phases(args: argparse.Namespace, concurrency: int, proc: psutil.Process) -> list[Figures]:
    """Measure probes only, then the full loop on SQLite (and PostgreSQL), at ``concurrency``."""
    config = parse_config(config_text(args.checks, args.port, concurrency))
    figures = [
        measure(
            f"{concurrency} in flight, probes only",
            lambda: asyncio.run(probes_only(config, args.seconds)),
            proc,
        )
    ]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        figures.append(
            measure(
                f"{concurrency} in flight, full loop, SQLite",
                lambda: asyncio.run(full_window(config, url, args.seconds)),
                proc,
            )
        )
    if args.pg:
        with scratch_database(args.pg) as url:
            upgrade(url)
            figures.append(
                measure(
                    f"{concurrency} in flight, full loop, PostgreSQL",
                    lambda: asyncio.run(full_window(config, url, args.seconds)),
                    proc,
                )
            )
    return figures


def verdict(base_n: int, base: list[Figures], n: int, loaded: list[Figures]) -> dict:
    """Issue 22's figures: failures and late runs at ``n``, its p95, CPU per check vs ``base_n``.

    The ratios are for probes only and for the full SQLite loop (the first two phases).
    """
    probes, loop = (
        x.cpu_ms_per_check / b.cpu_ms_per_check for b, x in zip(base[:2], loaded[:2], strict=True)
    )
    return {
        f"failed_at_{n}": sum(f.failed for f in loaded),
        f"late_at_{n}": sum(f.late for f in loaded),
        f"p95_ms_{n}": round(loaded[0].p95_ms, 1),
        f"cpu_per_check_ratio_{n}_vs_{base_n}": round(probes, 2),
        f"full_loop_cpu_per_check_ratio_{n}_vs_{base_n}": round(loop, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--concurrency", type=int, default=200, help="checks in flight (the default config's)"
    )
    parser.add_argument(
        "--baseline", type=int, default=8, help="checks in flight of the baseline run first"
    )
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument(
        "--pg", help="PostgreSQL server URL: also run the full loop on a scratch database there"
    )
    args = parser.parse_args()
    logging.getLogger("tasks.checks.window").setLevel(logging.ERROR)  # late ones are counted
    server = start_server(args.port)
    try:
        print(
            f"{args.checks} HTTP checks (interval 1s, timeout 5s), server answers in "
            f"{ANSWER_DELAY_S * 1000:.0f} ms, {os.cpu_count()} CPUs"
        )
        proc = psutil.Process(server.pid)
        base = run_phases(args, args.baseline, proc)
        loaded = run_phases(args, args.concurrency, proc)
    finally:
        server.terminate()
        server.wait()
    print(json.dumps(verdict(args.baseline, base, args.concurrency, loaded)))


if __name__ == "__main__":
    main()
