"""API benchmark: p50/p95 of three reads through HTTP against the same calls on the store.

    .venv/bin/python bench/api.py [--trials 200] [--alerts 500] [--pg URL]

Each store (a SQLite file, then a PostgreSQL database) holds ``--alerts`` alerts (every tenth
with acknowledgement events) and one day of one series every 30 s (2,880 points). The API
runs in this process under uvicorn on loopback; an httpx client keeps its connection open.
Direct calls are what the routes call: ``tasks.alerting.store.load_in_states`` (as
`vigil alerts list`), ``read_timeline`` and
``MetricStore.query_range(..., "raw")``. Target: HTTP p95 <= 1.5 x direct p95 + 5 ms.
The last line is JSON: ``{"worst_p95_ratio": x, "worst_p95_ms": y}`` (the HTTP p95, in ms,
of the call whose ratio is the worst).
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from models.config import load_config
from models.config.dashboard import Role
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from models.vocabulary.passwords import hash_password
from tasks.alerting import store as repo
from tasks.alerting.store import AlertRow
from tasks.alerting.timeline import read_timeline
from tasks.api.token_store import create_token
from tasks.core.alerting.lifecycle import AlertState, Lifecycle

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.ports import free_port
from tests.served import api_process

NOW = datetime.now(UTC).replace(microsecond=0)
SERIES_STEP_S = 30


def seed(store: MetricStore, alerts: int) -> int:
    """Store the alerts and the day of samples; return the id of an alert with events."""
    fired = (NOW - timedelta(hours=1)).timestamp()
    with_events = 0
    with store.engine.begin() as conn:
        for i in range(alerts):
            state = AlertState.FIRING if i % 2 else AlertState.PENDING
            row = AlertRow(
                f"fp{i:030d}",
                "HighCpu",
                {"target": f"web-{i}", "severity": "warning"},
                Lifecycle(state, fired - 60, fired),
                value=95.0,
            )
            repo.insert_alert(conn, row, fired)
            with_events = with_events or row.id or 0
            if i % 10 == 0:
                repo.acknowledge(conn, str(row.id), "bench", "on it", fired + 5)
                repo.unacknowledge(conn, str(row.id), "bench", fired + 50)
    start = NOW - timedelta(days=1)
    samples = [
        NewSample("cpu", {"host": "a"}, start + timedelta(seconds=i * SERIES_STEP_S), i % 97)
        for i in range(86_400 // SERIES_STEP_S)
    ]
    store.write(samples)
    return with_events


def percentiles(call: Callable[[], object], trials: int) -> tuple[float, float]:
    """p50 and p95 of ``call`` in ms, after a few warm-up calls."""
    for _ in range(max(5, trials // 10)):
        call()
    times = []
    for _ in range(trials):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    cuts = statistics.quantiles(times, n=100)
    return cuts[49], cuts[94]


def run(
    url: str, label: str, trials: int, alerts: int
) -> list[tuple[str, float, float, float, float]]:
    """Seed the store at ``url``, serve it, and time the three reads both ways."""
    upgrade(url)
    config_path = Path(tempfile.mkdtemp(prefix="vigil-bench-api-")) / "vigil.yaml"
    user = f'{{name: ann, role: viewer, password_hash: "{hash_password("x")}"}}'
    config_path.write_text(
        f"dashboard: {{users: [{user}]}}\n"
        f"collectors: {{push: {{enabled: true, port: {free_port()}}}}}\n"
    )
    config = load_config(config_path)
    store = MetricStore(make_engine(url))
    alert_id = seed(store, alerts)
    token = create_token(
        store.engine,
        config.dashboard.users,
        name="bench",
        user="ann",
        role=Role.VIEWER,
        by="bench",
        now=NOW,
    )
    start, end = NOW - timedelta(days=1), NOW
    span = {"match": "cpu", "start": start.isoformat(), "end": end.isoformat(), "resolution": "raw"}

    def alerts_direct() -> object:
        with store.engine.connect() as conn:
            return repo.load_in_states(conn, [AlertState.PENDING, AlertState.FIRING])

    def timeline_direct() -> object:
        with store.engine.connect() as conn:
            return read_timeline(conn, str(alert_id))

    rows = []
    try:
        with (
            api_process(url, config_path) as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http,
        ):

            def get(path: str, **params: str) -> Callable[[], object]:
                def call() -> object:
                    answer = http.get(path, params=params)
                    answer.raise_for_status()
                    return answer.json()

                return call

            cases = [
                (
                    "alerts list",
                    get("/api/v1/alerts", state="active"),
                    alerts_direct,
                ),
                ("alert timeline", get(f"/api/v1/alerts/{alert_id}/timeline"), timeline_direct),
                (
                    "one-day query_range",
                    get("/api/v1/metrics/query_range", **span),
                    lambda: store.query_range("cpu", start, end, "raw"),
                ),
            ]
            for name, over_http, direct in cases:
                http_p50, http_p95 = percentiles(over_http, trials)
                direct_p50, direct_p95 = percentiles(direct, trials)
                rows.append((f"{name} ({label})", http_p50, http_p95, direct_p50, direct_p95))
    finally:
        store.engine.dispose()
    return rows


def pg_database(admin_url: str) -> tuple[str, str]:
    """Create a scratch database; return its URL and the admin DSN to drop it with."""
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"vigil_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", args.trials, args.alerts)
    try:
        pg_url, admin = pg_database(args.pg)
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL skipped: {exc}")
    else:
        try:
            rows += run(pg_url, "PostgreSQL", args.trials, args.alerts)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{make_url(pg_url).database}" WITH (FORCE)')
    worst_ratio, worst_ms = 0.0, 0.0
    print(
        f"{'call':<36} {'HTTP p50':>9} {'HTTP p95':>9} {'direct p50':>11} {'direct p95':>11} "
        f"{'ratio':>6}  target"
    )
    for name, http_p50, http_p95, direct_p50, direct_p95 in rows:
        ratio = http_p95 / direct_p95
        is_met = http_p95 <= 1.5 * direct_p95 + 5
        print(
            f"{name:<36} {http_p50:8.2f}ms {http_p95:8.2f}ms {direct_p50:10.2f}ms "
            f"{direct_p95:10.2f}ms {ratio:6.2f}  {'met' if is_met else 'MISSED'}"
        )
        if ratio > worst_ratio:
            worst_ratio, worst_ms = ratio, http_p95
    print(
        json.dumps({"worst_p95_ratio": round(worst_ratio, 3), "worst_p95_ms": round(worst_ms, 3)})
    )


if __name__ == "__main__":
    main()
