"""Seconds to build (and render) a 30-day report over a month of a modest site, on SQLite.

The site: 1,000 series with hourly rollups for 30 days, 50 checks run every 60 s for 30
days (five of them down 5 minutes twice a day) as the default retention leaves them (every
result of the last 14 days, 1 M rows, and the status changes before), three alerts a day
with acks and recoveries, five check SLOs and one ratio SLO over two request counters
sampled every minute (raw for 7 days, hourly rollups before). The store is seeded with
bulk inserts (seeding is not measured). Baseline in the same run: the same report over 7 days.
Last line JSON: {"store": "sqlite", "report_seconds": x, ...}; target under 10 s.
"""

import argparse
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from models.alerting import Alert, AlertEvent, AlertTransition
from models.config import parse_config
from models.db import make_engine
from models.metrics import Series
from models.migrate import upgrade
from models.recovery import RecoveryRun
from models.rollups import Rollup1h
from models.store import MetricStore, NewSample
from tasks.core.reports.render import render
from tasks.slo.report import build_report

END = datetime(2026, 3, 31, tzinfo=UTC)
DAY = 86_400
CHECKS, CHECK_EVERY_S, SERIES = 50, 60, 1_000
FULL_DAYS = 14  # retention.check_results: every result; older only status changes
RAW_DAYS = 7  # retention.raw: raw samples; older as hourly rollups


def site_config() -> str:
    checks = "".join(
        f"  - {{name: check-{i}, type: tcp, target: host-{i % 10}, host: 127.0.0.1, port: 9}}\n"
        for i in range(CHECKS)
    )
    slos = "".join(f"  - {{name: slo-{i}, check: check-{i}, target: 99.9}}\n" for i in range(5))
    ratio = (
        "  - {name: requests, good: 'req_total{code=\"200\"}', total: req_total, target: 99.5}\n"
    )
    return f"checks:\n{checks}slos:\n{slos}{ratio}"


def seed(url: str, days: int) -> dict[str, int]:
    """Fill the store; return row counts."""
    engine = make_engine(url)
    start = END - timedelta(days=days)
    counts = {}
    with engine.begin() as conn:
        conn.execute(
            insert(Series.__table__),  # type: ignore[attr-defined]
            [
                {"name": f"app_metric_{i // 20}", "labels": json.dumps({"instance": str(i % 20)}),
                 "kind": "gauge", "unit": "", "created_at": start}
                for i in range(SERIES)
            ],
        )  # fmt: skip
        rng = random.Random(16)
        hours = days * 24
        rows = [
            {"series_id": s, "bucket_ms": int((start.timestamp() + h * 3600) * 1000),
             "min_value": v * 0.8, "max_value": v * 1.3, "avg_value": v, "sample_count": 120,
             "last_value": v, "last_ts_ms": int((start.timestamp() + h * 3600 + 3590) * 1000)}
            for s in range(1, SERIES + 1)
            for h in range(hours)
            for v in (rng.random() * s,)
        ]  # fmt: skip
        conn.execute(insert(Rollup1h.__table__), rows)  # type: ignore[attr-defined]
        counts["rollup_1h"] = len(rows)
    counts["check_result"] = seed_checks(engine, start, days)
    counts["alerts"] = seed_alerts(engine, start, days)
    counts["counter_samples"] = seed_counters(engine, start, days)
    engine.dispose()
    return counts


def seed_counters(engine, start: datetime, days: int) -> int:  # type: ignore[no-untyped-def]
    """Two request counters: raw samples each minute for the last 7 days (retention.raw),
    hourly rollups before."""
    store = MetricStore(engine)
    raw_from = (days - RAW_DAYS) * 1440
    rates = {"200": 995.0, "500": 5.0}
    samples = [
        NewSample("req_total", {"code": code}, start.timestamp() + minute * 60, minute * rate)
        for minute in range(raw_from, days * 1440 + 1)
        for code, rate in rates.items()
    ]
    store.write(samples)
    ids = {s.labels["code"]: s.id for s in store.find_series("req_total")}
    rollups = [
        {"series_id": ids[code], "bucket_ms": int(start.timestamp() * 1000) + h * 3_600_000,
         "min_value": h * 60 * rate, "max_value": (h * 60 + 59) * rate,
         "avg_value": (h * 60 + 29.5) * rate, "sample_count": 60,
         "last_value": (h * 60 + 59) * rate,
         "last_ts_ms": int(start.timestamp() * 1000) + h * 3_600_000 + 59 * 60_000}
        for h in range(raw_from // 60)
        for code, rate in rates.items()
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(Rollup1h.__table__), rollups)  # type: ignore[attr-defined]
    return len(samples) + len(rollups)


def seed_checks(engine, start: datetime, days: int) -> int:  # type: ignore[no-untyped-def]
    """Results every 60 s, thinned as retention leaves them: older than 14 days, only the
    results that changed a check's status are kept."""
    full_from = (days - FULL_DAYS) * DAY
    rows, states = [], []
    for check in range(CHECKS):
        name, target, previous = f"check-{check}", f"host-{check % 10}", None
        for k in range(days * DAY // CHECK_EVERY_S + 1):
            offset = k * CHECK_EVERY_S
            is_down = check % 10 == 0 and offset % (12 * 3600) < 300  # 5 minutes twice a day
            status = "down" if is_down else "up"
            if offset >= full_from or status != previous:
                at = (start + timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S.%f")
                rows.append((name, target, name, at, status, is_down, int(is_down), 1, 2.0, ""))
            previous = status
        states.append((name, target, "up", True, 0, 1, ""))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            'INSERT INTO check_result ("check", target, component, at, status, is_hard, '
            "attempt, tries, latency_ms, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.exec_driver_sql(
            'INSERT INTO check_state ("check", target, status, is_hard, failures, passes, '
            "message) VALUES (?, ?, ?, ?, ?, ?, ?)",
            states,
        )
    return len(rows)


def seed_alerts(engine, start: datetime, days: int) -> int:  # type: ignore[no-untyped-def]
    alerts, moves, acks, runs = [], [], [], []
    for day in range(days):
        for n, hour in enumerate((3, 11, 19)):
            alert_id = day * 3 + n + 1
            fired = start + timedelta(days=day, hours=hour)
            rule = ("HighLatency", "DiskFull", "CheckDown")[n]
            alerts.append(
                {"id": alert_id, "fingerprint": f"fp{alert_id}", "rule": rule,
                 "labels": json.dumps({"alertname": rule, "target": f"host-{n}"}),
                 "state": "resolved", "version": 0, "updated_at": fired, "is_flapping": False,
                 "flap_changes": "[]", "annotations": "{}", "escalation_level": 0}
            )  # fmt: skip
            for old, new, after in (("pending", "firing", 0), ("firing", "resolved", 1800)):
                moves.append(
                    {"alert_id": alert_id, "fingerprint": f"fp{alert_id}", "rule": rule,
                     "from_state": old, "to_state": new, "reason": "",
                     "at": fired + timedelta(seconds=after)}
                )  # fmt: skip
            acks.append(
                {"alert_id": alert_id, "fingerprint": f"fp{alert_id}", "kind": "acknowledged",
                 "at": fired + timedelta(minutes=4), "actor": "ops", "detail": ""}
            )  # fmt: skip
            runs.append(
                {"procedure": "restart", "target": f"host-{n}", "trigger": f"alert:{rule}",
                 "state": "succeeded" if n else "failed", "is_dry_run": False, "labels": "{}",
                 "requested_at": fired, "finished_at": fired + timedelta(minutes=10),
                 "message": ""}
            )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(Alert.__table__), alerts)  # type: ignore[attr-defined]
        conn.execute(insert(AlertTransition.__table__), moves)  # type: ignore[attr-defined]
        conn.execute(insert(AlertEvent.__table__), acks)  # type: ignore[attr-defined]
        conn.execute(insert(RecoveryRun.__table__), runs)  # type: ignore[attr-defined]
    return len(alerts)


def timed_report(url: str, days: int, fmt: str) -> tuple[float, float, int, float]:
    """Seconds to gather and to render a report of the last ``days``, its size in bytes, and
    the CPU seconds of both (SQLite runs in this process: on a shared, loaded machine the
    CPU time is what the work costs, the wall time also what waited for a core)."""
    config = parse_config(site_config())
    engine = make_engine(url)
    cpu, began = time.process_time(), time.perf_counter()
    report = build_report(config, engine, END - timedelta(days=days), END)
    gathered = time.perf_counter()
    content = render(report, fmt)
    rendered = time.perf_counter()
    cpu = time.process_time() - cpu
    engine.dispose()
    return gathered - began, rendered - gathered, len(content), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--format", default="pdf", choices=["pdf", "html", "csv"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/report.db"
        upgrade(url)
        began = time.perf_counter()
        counts = seed(url, args.days)
        print(f"seeded {counts} in {time.perf_counter() - began:.1f} s")
        week = timed_report(url, 7, args.format)
        month = timed_report(url, args.days, args.format)
    print(
        f"7-day report:  gather {week[0]:.2f} s, render {week[1]:.2f} s, {week[2]:,} bytes, "
        f"CPU {week[3]:.2f} s"
    )
    print(
        f"{args.days}-day report: gather {month[0]:.2f} s, render {month[1]:.2f} s, "
        f"{month[2]:,} bytes, CPU {month[3]:.2f} s"
    )
    print(f"load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    seconds = month[0] + month[1]
    ratio = seconds / (week[0] + week[1])
    print(f"{args.days}-day / 7-day: x{ratio:.2f}; target: under 10 s")
    figures = {
        "store": "sqlite",
        "report_seconds": round(seconds, 3),
        "report_cpu_seconds": round(month[3], 3),
        "week_report_seconds": round(week[0] + week[1], 3),
        "ratio_to_week": round(ratio, 2),
        "format": args.format,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
