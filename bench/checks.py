"""Health check benchmark: 1,000 HTTP checks against a local server that answers in 10 ms.

    .venv/bin/python bench/checks.py [--checks 1000] [--seconds 30] [--concurrency 8] [--pg URL]

The server runs in its own process (uvicorn). Two figures:
  1. probes only: every check run back to back through the real runner (timeouts, retries);
  2. the full window loop: probes, soft/hard states, scores, results and samples stored in
     the store (SQLite file, or PostgreSQL with --pg), batches published to the alert seam.
Prints checks/min, p50/p95 check latency and the CPU used by Vigil and by the server.
Targets from issue 4: >= 10,000 checks/min with p95 < 100 ms.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
from tasks.checks.recorder import CheckRecorder  # noqa: E402
from tasks.checks.runner import run_check  # noqa: E402
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


async def probes_only(config, seconds: float) -> list[float]:
    """Run every check back to back for ``seconds``; return each check's latency (ms)."""
    ctx = ProbeContext(max_connections=config.health.max_concurrency)
    slots = asyncio.Semaphore(config.health.max_concurrency)
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    async def loop(check) -> None:  # type: ignore[no-untyped-def]
        while time.perf_counter() < deadline:
            outcome = await run_check(check, ctx, datetime.now(UTC), slots)
            latencies.append(outcome.latency_ms or 0.0)
            if not outcome.is_passing:
                failures.append(outcome.message)

    await asyncio.gather(*(loop(check) for check in config.checks))
    await ctx.aclose()
    _say_failures(failures)
    return latencies


async def full_window(config, url: str, seconds: float) -> list[float]:
    """Run the real window loop for ``seconds``; return the latencies it stored (ms)."""
    engine = make_engine(url)
    store = MetricStore(engine)
    ctx = ProbeContext(store=store)
    window = CheckWindow(
        config, CheckRecorder(engine, store), ctx, clock=lambda: datetime.now(UTC), tick_s=1.0
    )
    await window.run(seconds)
    await ctx.aclose()
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT latency_ms, status, message FROM check_result").all()
    engine.dispose()
    _say_failures([message for _, status, message in rows if status != "up"])
    return [row[0] for row in rows]


def _say_failures(messages: list[str]) -> None:
    if messages:
        print(f"  {len(messages)} checks failed, e.g. {messages[0]!r}")


def measure(label: str, run, server: psutil.Process) -> None:  # type: ignore[no-untyped-def]
    me = psutil.Process()
    cpu0, server0, wall0 = me.cpu_times(), server.cpu_times(), time.perf_counter()
    latencies = run()
    wall = time.perf_counter() - wall0
    cpu1, server1 = me.cpu_times(), server.cpu_times()
    cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    server_cpu = (server1.user + server1.system) - (server0.user + server0.system)
    cuts = statistics.quantiles(latencies, n=100)
    cpu_ms = cpu / len(latencies) * 1000
    print(
        f"{label:28} {len(latencies) / wall * 60:>7,.0f} checks/min  "
        f"p50 {cuts[49]:6.1f} ms  p95 {cuts[94]:6.1f} ms  "
        f"CPU {cpu:4.1f} s = {cpu / wall:4.0%} of a core, {cpu_ms:.2f} ms/check "
        f"(~{60_000 / cpu_ms:,.0f} checks/min per free core)  server CPU {server_cpu:4.1f} s  "
        f"wall {wall:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="checks in flight (20 triples CPU per check here)",
    )
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument(
        "--pg", help="PostgreSQL server URL: also run the full loop on a scratch database there"
    )
    args = parser.parse_args()
    server = start_server(args.port)
    try:
        config = parse_config(config_text(args.checks, args.port, args.concurrency))
        print(
            f"{args.checks} HTTP checks, server answers in {ANSWER_DELAY_S * 1000:.0f} ms, "
            f"{args.concurrency} in flight, {os.cpu_count()} CPUs"
        )
        proc = psutil.Process(server.pid)
        measure("probes only", lambda: asyncio.run(probes_only(config, args.seconds)), proc)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            measure(
                "full loop, SQLite store",
                lambda: asyncio.run(full_window(config, url, args.seconds)),
                proc,
            )
        if args.pg:
            with scratch_database(args.pg) as url:
                upgrade(url)
                measure(
                    "full loop, PostgreSQL store",
                    lambda: asyncio.run(full_window(config, url, args.seconds)),
                    proc,
                )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
