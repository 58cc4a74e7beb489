"""Alerting benchmark: breach-to-delivery latency and rule-evaluation throughput.

    .venv/bin/python bench/alerts.py [--trials 50] [--samples 200000] [--pg URL]

Latency: a breaching sample is written to the store and published on the batch seam
(as collection and push do); the clock stops when a webhook receiver on loopback gets
the apprise JSON message. group_wait 0, one group per alert. Throughput: 1,000 rules,
samples judged by the pure evaluator (``RuleSet.observe``), and the full fast path
(``AlertEngine.on_batch``: evaluation plus the store reads and writes) on quiet samples.
"""

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.core.alerting.rules import RuleSet
from tasks.store.batch_hooks import BatchWritten, publish


class Receiver:
    """A webhook receiver that notes when each message arrives."""

    def __init__(self) -> None:
        arrivals: dict[str, float] = {}
        self.arrivals = arrivals
        self.cond = threading.Condition()
        cond = self.cond

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with cond:
                    arrivals[body["title"]] = time.perf_counter()
                    cond.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, title: str, timeout: float = 10.0) -> float:
        with self.cond:
            self.cond.wait_for(lambda: title in self.arrivals, timeout)
        return self.arrivals[title]


def latency(url: str, trials: int) -> list[float]:
    """Milliseconds from store write to webhook arrival, one new alert per trial."""
    receiver = Receiver()
    config = parse_config(
        "rules:\n  - {name: Probe, series: probe, value: 0.5}\n"
        f"channels:\n  - {{name: hook, url: 'json://127.0.0.1:{receiver.port}/x'}}\n"
        "alerting:\n  default: {group_wait: 0s, group_by: ['...']}\n"
    )
    db = make_engine(url)
    store = MetricStore(db)
    engine = AlertEngine(db, build_plan(config), store=store, emit=None)
    engine.outbox.start()
    out = []
    try:
        for trial in range(-3, trials):  # three warm-up trials
            now = time.time()
            sample = NewSample("probe", {"target": f"t{trial + 3}"}, now, 0.9)
            start = time.perf_counter()
            store.write([sample])
            publish(
                BatchWritten("push", datetime.fromtimestamp(now, UTC), [sample]), [engine.on_batch]
            )
            arrived = receiver.wait_for(f"[FIRING:1] Probe on t{trial + 3}")
            if trial >= 0:
                out.append((arrived - start) * 1000)
    finally:
        engine.outbox.stop()
        receiver.server.shutdown()
        db.dispose()
    return out


def rules_yaml(count: int, metrics: int) -> str:
    """``count`` threshold rules spread over ``metrics`` metric names."""
    lines = ["rules:"]
    for i in range(count):
        lines.append(
            f"  - {{name: r{i}, series: 'm{i % metrics}{{host=~\"web.*\"}}', value: {1000 + i}}}"
        )
    return "\n".join(lines) + "\n"


def samples_for(total: int, metrics: int, hosts: int = 100) -> list[NewSample]:
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    return [
        NewSample(f"m{i % metrics}", {"host": f"web-{i % hosts}"}, start + i // metrics, 1.0)
        for i in range(total)
    ]


def throughput(total: int, metrics: int, windowed: bool = False) -> tuple[float, float, int]:
    """Return (sample evaluations/s, samples/s, evaluations) of the pure evaluator."""
    text = rules_yaml(1000, metrics)
    if windowed:
        text = text.replace("value:", "aggregate: avg, window: 5m, value:")
    rules = RuleSet(build_plan(parse_config(text)).rules)
    samples = samples_for(total, metrics)
    start = time.perf_counter()
    rules.observe(samples)
    elapsed = time.perf_counter() - start
    return rules.evaluations / elapsed, total / elapsed, rules.evaluations


def fast_path(url: str, total: int) -> float:
    """Samples per second through AlertEngine.on_batch (quiet samples, 1,000 rules)."""
    db = make_engine(url)
    engine = AlertEngine(db, build_plan(parse_config(rules_yaml(1000, 1000))), emit=None)
    samples = samples_for(total, 1000)
    batches = [samples[i : i + 10_000] for i in range(0, total, 10_000)]
    now = datetime.now(UTC)
    start = time.perf_counter()
    for batch in batches:
        engine.on_batch(BatchWritten("push", now, batch))
    elapsed = time.perf_counter() - start
    db.dispose()
    return total / elapsed


def pg_database(admin_url: str) -> tuple[str, str]:
    name = f"vigil_bench_{uuid.uuid4().hex[:8]}"
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), dsn


def describe(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"{name}: p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ordered[-1]:.1f} ms over {len(ordered)} trials"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        print(describe("breach-to-delivery (SQLite)", latency(url, args.trials)))
        print(
            f"fast path (SQLite, 1,000 rules): {fast_path(url, args.samples // 4):,.0f} samples/s"
        )
    try:
        pg_url, admin = pg_database(args.pg)
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL skipped: {exc}")
    else:
        try:
            upgrade(pg_url)
            print(describe("breach-to-delivery (PostgreSQL)", latency(pg_url, args.trials)))
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                name = make_url(pg_url).database
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for label, metrics, windowed in (
        ("1,000 rules, 1 rule per metric", 1000, False),
        ("1,000 rules, 10 rules per metric", 100, False),
        ("1,000 rules, 10 per metric, avg over 5m window", 100, True),
    ):
        per_eval, per_sample, evaluations = throughput(args.samples, metrics, windowed)
        print(
            f"evaluation ({label}): {per_eval:,.0f} sample evaluations/s "
            f"({per_sample:,.0f} samples/s, {evaluations:,} evaluations)"
        )


if __name__ == "__main__":
    main()
