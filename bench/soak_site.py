"""A month of a modest site in accelerated time, through Vigil's real write and upkeep paths.

One host, 50 checks, 1,000 series (900 application series plus the checks' own), 20 rules,
a few alerts, notifications and recoveries a day. Each round (every ``step_s`` simulated
seconds) writes the samples with ``MetricStore.write``, judges them with ``AlertEngine.on_batch``
and ``sweep`` (``now`` passed in), delivers the outbox to a webhook on loopback, and records
the checks with ``CheckStore.record``. Every ``maintenance_every_h`` simulated hours the
maintenance flow's functions run with the simulated time (the flow itself reads the real
clock): rollups, retention, reclaim. Retention is Vigil's default ``Retention`` with every
period capped at ``keep_days`` (14 by default), so the longest retention is reached before day
20 and days 20 to 30 show the steady state; ``keep_days=None`` keeps the defaults (400 days
of hourly rollups and access audit, 90 of alerts and recoveries: they grow all month).
Firing alerts request their recovery through ``request_recovery``; the launched run is
finished in the store at once (no steps are run).
"""

import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from models.config import parse_config
from models.config.collectors import Retention
from models.db import is_sqlite, make_engine, normalize_url
from models.migrate import upgrade
from models.recovery import AuditEvent, RecoveryRun
from models.store import MetricStore, NewSample
from models.vocabulary.run_states import RunState
from tasks import queries
from tasks.alerting.engine import AlertEngine
from tasks.alerting.hooks import FiringAlert
from tasks.alerting.plan import build_plan
from tasks.checks.store import CheckStore
from tasks.core.checks.health_score import HealthLevel, Scope, Score
from tasks.core.checks.machine import CheckState, Outcome, Rules, next_state
from tasks.core.checks.round import CheckSpec, Resolved
from tasks.core.checks.state import CheckReport, CheckStatus
from tasks.recovery.store import audit, finish, set_state
from tasks.recovery.trigger import request_recovery
from tasks.store.batch_hooks import BatchWritten
from tasks.store.upkeep import apply_retention, reclaim_space, roll_up_recent

START = datetime(2026, 1, 1, tzinfo=UTC)
DAY = 86_400
CHECKS, CHECK_EVERY_S = 50, 30
METRICS, INSTANCES, RULES = 45, 20, 20  # 900 application series
ALERT_HOURS = (3, 11, 19)  # three alerts a day, each breaching for two hours
CHECK_OUTAGE_HOURS = (6, 18)  # one check down for two hours twice a day
BREACH_H = 2  # two hours, so a rule with ``for: 10m`` fires even at one round an hour
MEASURED_DAYS = (10, 20, 30)
QUERY_REPEATS = 20
EVAL_REPEATS = 100  # a measured day's last round judged again: 24 rounds give no stable p95
TRIES = 3  # each p95 is the lowest of this many measurements, the one least hit by other load


@dataclass(frozen=True)
class SiteShape:
    """How many simulated days, and the simulated seconds between rounds."""

    days: int = 30
    step_s: float = 3600.0
    maintenance_every_h: int = 12  # the deployment runs hourly; see describe()
    keep_days: int | None = 14  # every retention capped at this; None: Vigil's defaults

    @property
    def retention(self) -> Retention:
        """Vigil's default retention, each period capped at ``keep_days``."""
        return capped(Retention(), self.keep_days)

    @property
    def rounds_per_day(self) -> int:
        return int(DAY // self.step_s)

    @property
    def lookback(self) -> timedelta:
        """The flow's lookback (3 h by default) widened so consecutive runs overlap."""
        return timedelta(hours=self.maintenance_every_h + 2)

    def describe(self) -> str:
        site = DAY // CHECK_EVERY_S
        return (
            f"site: {CHECKS} checks every {CHECK_EVERY_S} s, {METRICS * INSTANCES} app series, "
            f"{RULES} rules, {len(ALERT_HOURS)} alerts a day; scaled: one round every "
            f"{self.step_s:.0f} s ({self.rounds_per_day} rounds a day instead of {site:,}, "
            f"sample and check rate x{CHECK_EVERY_S / self.step_s:.3f}); "
            f"maintenance every {self.maintenance_every_h} h instead of hourly (rollup lookback "
            f"{self.lookback}); retention = "
            + ("defaults" if self.keep_days is None else f"defaults capped at {self.keep_days} d")
        )


def capped(retention: Retention, days: int | None) -> Retention:
    """``retention`` with every period longer than ``days`` cut to it (None: unchanged).

    >>> capped(Retention(), 14).rollup_1h, capped(Retention(), 14).raw
    (datetime.timedelta(days=14), datetime.timedelta(days=7))
    """
    if days is None:
        return retention
    cap = timedelta(days=days)
    periods = {
        name: min(value, cap)
        for name in type(retention).model_fields
        if isinstance(value := getattr(retention, name), timedelta)
    }
    return retention.model_copy(update=periods)


def site_config(webhook_url: str) -> str:
    rules = "\n".join(
        f"  - {{name: High{j}, series: 'app_m{j}', value: 90, for: 10m, severity: warning"
        + (", procedure: restart-app}" if j % 4 == 0 else "}")
        for j in range(RULES)
    )
    return f"""
rules:
{rules}
channels:
  - {{name: ops, url: '{webhook_url}'}}
routes:
  - match: '{{severity="warning"}}'
    channels: [ops]
    group_wait: 0s
    group_interval: 1m
    repeat_interval: 4h
procedures:
  - name: restart-app
    steps:
      - {{name: restart, type: command, argv: [/bin/true]}}
    limits: {{max_runs: 10, window: 1h}}
"""


class Receiver:
    """A webhook on loopback that counts what apprise posts to it."""

    def __init__(self) -> None:
        self.received = 0
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                counter.received += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/alerts"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """Create a scratch database next to ``url``'s; drop it afterwards."""
    name = f"vigil_soak_{uuid.uuid4().hex[:8]}"
    url = normalize_url(url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def app_value(metric: int, instance: int, at: datetime) -> float:
    """Quiet (40-70) except for two hours from each alert hour, when one series breaches."""
    quiet = 40 + (metric * 7 + instance * 13 + at.minute) % 30
    day = (at - START).days
    for k, hour in enumerate(ALERT_HOURS):
        breaching = (day * len(ALERT_HOURS) + k) % RULES == metric and instance == k
        if breaching and hour <= at.hour < hour + BREACH_H:
            return 95.0
    return float(quiet)


def is_check_failing(check: int, at: datetime) -> bool:
    day = (at - START).days
    return check == (day * 3) % CHECKS and any(
        h <= at.hour < h + BREACH_H for h in CHECK_OUTAGE_HOURS
    )


class Site:
    """The simulated site and Vigil's write paths for it."""

    def __init__(self, url: str, receiver: Receiver, retention: Retention) -> None:
        self.db = make_engine(url)
        self.retention = retention
        self.store = MetricStore(self.db)
        self.config = parse_config(site_config(receiver.url))
        self.checks = CheckStore(self.db, self.store)
        self.specs = [CheckSpec(f"check-{i:02}", "host-1", CHECK_EVERY_S) for i in range(CHECKS)]
        self.states = {spec.name: CheckState() for spec in self.specs}
        self.alerts = AlertEngine(
            self.db,
            build_plan(self.config),
            store=self.store,
            emit=None,
            on_firing=[self.recover],
        )
        self.now = START
        self.last_batch: list[NewSample] = []
        self.recoveries = 0

    def round(self, now: datetime) -> None:
        self.now = now
        ts = now.timestamp()
        samples = [
            NewSample(
                f"app_m{m}", {"instance": f"i{i}", "host": "host-1"}, ts, app_value(m, i, now)
            )
            for m in range(METRICS)
            for i in range(INSTANCES)
        ]
        self.store.write(samples)
        self.last_batch = samples
        self.evaluate(now)
        self.alerts.outbox.deliver_due(ts)
        self.record_checks(now)

    def evaluate(self, now: datetime) -> float:
        """Judge the last batch and sweep, as the collect flow does; return the seconds taken.

        Judging the same batch again at the same time changes nothing, so it can be timed.
        """
        began = time.perf_counter()
        self.alerts.on_batch(BatchWritten("collect", now, self.last_batch))
        self.alerts.sweep(now.timestamp(), deliver=False)
        return time.perf_counter() - began

    def record_checks(self, now: datetime) -> None:
        resolved = []
        for i, spec in enumerate(self.specs):
            is_passing = not is_check_failing(i, now)
            outcome = Outcome(is_passing, "" if is_passing else "refused", 3.0 + i % 7)
            state = next_state(self.states[spec.name], outcome, Rules(), now=now)
            self.states[spec.name] = state
            report = CheckReport(
                spec.name, spec.target, state.status, state.is_hard, now, outcome.message, 3.0
            )
            resolved.append(Resolved(spec, state, outcome, report))
        down = sum(r.state.status is CheckStatus.DOWN for r in resolved)
        level = HealthLevel.HEALTHY if not down else HealthLevel.DEGRADED
        score = 100.0 * (CHECKS - down) / CHECKS
        scores = [
            Score(Scope.TARGET, "host-1", score, level),
            Score(Scope.SYSTEM, "", score, level),
        ]
        self.checks.record(resolved, scores, now)

    def recover(self, alert: FiringAlert) -> None:
        """The recovery trigger with the simulated time; the run succeeds at once."""

        def launch(run: RecoveryRun) -> None:
            assert run.id is not None
            set_state(self.db, run.id, RunState.RUNNING)
            for event, detail in (
                (AuditEvent.STEP_SUCCEEDED, "restart"),
                (AuditEvent.VERIFIED, ""),
            ):
                audit(
                    self.db, run.procedure, run.target, event, detail, run_id=run.id, now=self.now
                )
            procedure = self.config.procedures[0]
            finish(self.db, procedure, run.id, RunState.SUCCEEDED, "ok", now=self.now)
            self.recoveries += 1

        request_recovery(
            self.db,
            self.config.procedures,
            alert.rule,
            "host-1",
            dict(alert.labels),
            launch=launch,
            named=alert.procedure,
            now=self.now,
        )

    def maintain(self, now: datetime, lookback: timedelta) -> dict[str, int]:
        """What the maintenance flow does, with the simulated time."""
        roll_up_recent.fn(self.db, now, lookback)
        deleted = apply_retention.fn(self.db, now, self.retention)
        reclaim_space.fn(self.db)
        return deleted


def dashboard_queries(
    engine: Any, now: datetime, retention: Retention
) -> dict[str, Callable[[], object]]:
    """The main queries of the dashboard's pages, as they call them."""
    metrics, checks, alerting, recovery = (
        queries.metrics,
        queries.checks,
        queries.alerting,
        queries.recovery,
    )
    series = metrics.find_series(engine, metrics.build_selector("app_m3", {}))[:20]

    def chart(days: int) -> Callable[[], object]:
        start = now - timedelta(days=days)
        resolution = metrics.history_resolution(start, now, now=now, retention=retention)
        return lambda: metrics.series_history(engine, series, start, now, resolution=resolution)

    return {
        "overview: counts": lambda: metrics.store_counts(engine),
        "overview: last sample": lambda: metrics.last_sample_at(engine),
        "metrics: names": lambda: metrics.metric_names(engine),
        "metrics: 20 series 1 day": chart(1),
        "metrics: 20 series 7 days": chart(7),
        "metrics: 20 series 30 days": chart(30),
        "checks: states": lambda: checks.check_states(engine, since=now - timedelta(hours=6)),
        "checks: history": lambda: checks.check_history(
            engine, "check-07", since=now - timedelta(days=7)
        ),
        "checks: health trend": lambda: checks.health_trend(
            engine, "target", since=now - timedelta(days=7)
        ),
        "alerts: list": lambda: alerting.alerts(engine),
        "alerts: transitions": lambda: alerting.alert_transitions(
            engine, since=now - timedelta(days=7)
        ),
        "alerts: deliveries": lambda: alerting.deliveries(engine),
        "recovery: runs": lambda: recovery.recovery_runs(engine),
    }


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def measure_queries(
    engine: Any, now: datetime, retention: Retention
) -> tuple[float, dict[str, float]]:
    """p95 of one dashboard refresh (every main query once) and of each query, seconds:
    the lowest of ``TRIES`` measurements each."""
    tries = [_queries_p95(engine, now, retention) for _ in range(TRIES)]
    names = tries[0][1]
    return min(t[0] for t in tries), {n: min(t[1][n] for t in tries) for n in names}


def _queries_p95(
    engine: Any, now: datetime, retention: Retention
) -> tuple[float, dict[str, float]]:
    named = dashboard_queries(engine, now, retention)
    per_query: dict[str, list[float]] = {name: [] for name in named}
    refreshes = []
    for _ in range(QUERY_REPEATS):
        total = 0.0
        for name, run in named.items():
            began = time.perf_counter()
            run()
            spent = time.perf_counter() - began
            per_query[name].append(spent)
            total += spent
        refreshes.append(total)
    return p95(refreshes), {name: p95(times) for name, times in per_query.items()}


def store_size_mb(engine: Any, url: str) -> float:
    if is_sqlite(engine):
        path = Path(make_url(url).database or "")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        return sum(f.stat().st_size for f in files if f.exists()) / 1e6
    with engine.connect() as conn:
        return (
            float(conn.execute(text("SELECT pg_database_size(current_database())")).scalar()) / 1e6
        )


TABLES = (
    "series",
    "sample",
    "rollup_1m",
    "rollup_1h",
    "check_result",
    "health_score",
    "alert",
    "alert_transition",
    "alert_event",
    "notification",
    "recovery_run",
    "recovery_audit",
)


def kept_longer_than(days: int, retention: Retention) -> set[str]:
    """Tables whose retention exceeds ``days``: they grow all through the soak."""
    kept = {
        "rollup_1h": retention.rollup_1h,
        "alert": retention.alerts,
        "alert_event": retention.alerts,
        "alert_transition": retention.transitions,
        "notification": retention.notifications,
        "recovery_run": retention.recoveries,
        "recovery_audit": retention.recoveries,
    }
    return {table for table, keep in kept.items() if keep > timedelta(days=days)}


def table_sizes_mb(engine: Any) -> dict[str, float]:
    """Each table's size with its indexes, MB; SQLite's free pages as ``(free pages)``."""
    if is_sqlite(engine):
        query = (
            "SELECT COALESCE(m.tbl_name, d.name), SUM(d.pgsize) FROM dbstat d "
            "LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY 1"
        )
        with engine.connect() as conn:
            sizes = {str(t): float(n) / 1e6 for t, n in conn.exec_driver_sql(query)}
            free = conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
            page = conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
        return sizes | {"(free pages)": free * page / 1e6}
    query = "SELECT relname, pg_total_relation_size(relid) FROM pg_statio_user_tables"
    with engine.connect() as conn:
        return {str(t): float(n) / 1e6 for t, n in conn.execute(text(query))}


def dead_tuples(engine: Any) -> dict[str, int]:
    """PostgreSQL's dead rows per table (deleted, not yet vacuumed), the non-zero ones."""
    if is_sqlite(engine):
        return {}
    query = "SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE n_dead_tup > 0"
    with engine.connect() as conn:
        return {str(t): int(n) for t, n in conn.execute(text(query))}


def size_table(kind: str, by_day: dict[int, dict[str, float]], long_kept: set[str]) -> list[str]:
    """Lines: each table's MB on the measured days and its day 30 / day 20 ratio, largest first."""
    days = sorted(by_day)
    last = by_day[days[-1]]
    header = "  ".join(f"day {d}" for d in days)
    lines = [f"{kind} size by table, MB (tables and indexes):   {header}"]
    for table in sorted(last, key=lambda t: -last[t]):
        values = [by_day[d].get(table, 0.0) for d in days]
        if max(values) < 0.05:
            continue
        ratio = f"{values[-1] / values[-2]:.2f}" if len(values) > 1 and values[-2] else "-"
        mark = "  (kept > soak)" if table in long_kept else ""
        lines.append(f"   {table:22}" + "".join(f"{v:9.1f}" for v in values) + f"  x{ratio}{mark}")
    return lines


def row_counts(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() or 0) for t in TABLES
        }


def soak(kind: str, url: str, shape: SiteShape) -> dict[str, object]:
    """Run the month on one store; print each measured day; return the JSON summary."""
    upgrade(url)
    receiver = Receiver()
    site = Site(url, receiver, shape.retention)
    began = time.perf_counter()
    measured: dict[int, tuple[float, float, float]] = {}
    every_s = shape.maintenance_every_h * 3600
    next_maintenance = START.timestamp() + every_s
    deleted_total: dict[str, int] = {}
    by_table: dict[int, dict[str, float]] = {}
    long_kept = kept_longer_than(shape.days, shape.retention)
    try:
        for day in range(1, shape.days + 1):
            for k in range(shape.rounds_per_day):
                now = START + timedelta(seconds=(day - 1) * DAY + (k + 1) * shape.step_s)
                site.round(now)
                if now.timestamp() >= next_maintenance:
                    for table, n in site.maintain(now, shape.lookback).items():
                        deleted_total[table] = deleted_total.get(table, 0) + n
                    next_maintenance += every_s
            if day in MEASURED_DAYS:
                size = store_size_mb(site.db, url)
                refresh, per_query = measure_queries(site.db, now, site.retention)
                rows = row_counts(site.db)
                evaluation = min(
                    p95([site.evaluate(now) for _ in range(EVAL_REPEATS)]) for _ in range(TRIES)
                )
                if row_counts(site.db) != rows:
                    raise SystemExit("judging the last batch again changed the store")
                measured[day] = (size, refresh, evaluation)
                print(
                    f"{kind} day {day:2}: store {size:7.1f} MB, dashboard refresh p95 "
                    f"{refresh * 1000:6.1f} ms, rule evaluation p95 {evaluation * 1000:6.1f} ms "
                    f"({time.perf_counter() - began:.0f} s elapsed)"
                )
                print(
                    "   queries p95 ms: "
                    + ", ".join(f"{name} {s * 1000:.1f}" for name, s in per_query.items())
                )
                print(f"   rows: {json.dumps(rows)}")
                by_table[day] = table_sizes_mb(site.db)
                if dead := dead_tuples(site.db):
                    print(f"   dead rows: {json.dumps(dead)}")
        print("\n".join(size_table(kind, by_table, long_kept)))
        print(
            f"{kind}: {site.recoveries} recoveries, {receiver.received} notices delivered, "
            f"retention deleted {json.dumps({t: n for t, n in deleted_total.items() if n})}"
        )
    finally:
        site.db.dispose()
        receiver.close()
    last, base = measured.get(30), measured.get(20)
    if last is None or base is None:
        return {"store": kind}
    line = f"{kind}: size ratio day 30 / day 20 {last[0] / base[0]:.3f} (whole store)"
    if long_kept:
        short = {d: sum(v for t, v in by_table[d].items() if t not in long_kept) for d in (20, 30)}
        line += (
            f"; {short[30] / short[20]:.3f} without the tables kept longer than the soak "
            f"({', '.join(sorted(long_kept))}), which grow by design"
        )
    print(line)
    return {
        "store": kind,
        "keep_days": shape.keep_days,
        "size_ratio_30_20": round(last[0] / base[0], 3),
        "query_p95_ratio_30_20": round(last[1] / base[1], 3),
        "eval_p95_ratio_30_20": round(last[2] / base[2], 3),
    }
