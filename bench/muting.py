"""Muting cost of maintenance windows and remediation on the notifier's flush.

    .venv/bin/python bench/muting.py [--alerts 500] [--windows 20] [--trials 30]

One SQLite store holds ``--alerts`` firing alerts. The same flush (``Notifier.flush``,
rolled back after each trial so every trial sees the same state) is timed with a plain
config (the baseline) and with ``--windows`` recurring maintenance windows in several time
zones plus ``remediate:`` on the rule (a remediation row per alert, one in ten awaiting an
overdue verdict). Neither mutes anything (the windows match other targets, the verdicts are
due), so both flushes send the same messages and the difference is the cost of asking.
"""

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.alerting.store import load_in_states
from tasks.core.alerting.lifecycle import AlertState
from tasks.core.recovery.remediation import Phase, Remediation
from tasks.recovery.remediation_store import RemediationRow, save
from tasks.store.batch_hooks import BatchWritten, publish

T0 = 1_790_000_000.0
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
BASE = """
rules:
  - {name: Hot, series: temp, value: 80, procedure: cool}
channels:
  - {name: hook, url: "json://127.0.0.1:9/x"}
procedures:
  - {name: cool, steps: [{type: wait, duration: 1s}]}
"""


def _config(windows: int) -> str:
    if not windows:
        return BASE
    text = BASE.replace("procedure: cool}", "procedure: cool, remediate: {}}")
    text += "maintenance_windows:\n"
    for i in range(windows):
        zone = ZONES[i % len(ZONES)]
        text += (
            f"  - {{name: w{i}, match: '{{target=\"never-{i}\"}}', "
            f'schedule: "{i % 60} {i % 24} * * *", duration: 1h, timezone: {zone}}}\n'
        )
    return text


def _engine(url: str, text: str, alerts: int) -> AlertEngine:
    """A store at ``url`` with ``alerts`` firing alerts (and a remediation row per alert)."""
    upgrade(url)
    db = make_engine(url)
    engine = AlertEngine(db, build_plan(parse_config(text)), store=MetricStore(db), emit=None)
    batch = [NewSample("temp", {"target": f"t{i}"}, T0, 99.0) for i in range(alerts)]
    publish(BatchWritten("bench", datetime.fromtimestamp(T0, UTC), batch), [engine.on_batch])
    if engine.plan.remediate:
        with db.begin() as conn:
            for n, row in enumerate(load_in_states(conn, [AlertState.FIRING])):
                fired = row.lifecycle.fired_at
                state = Remediation(Phase.FAILED, (T0,), 0, fired, None)
                if n % 10 == 0:  # awaiting a verdict that is overdue: read, judged, not held
                    state = Remediation(Phase.VERIFYING, (T0,), 0, fired, T0 + 30)
                target = row.labels["target"]
                save(conn, RemediationRow(row.fingerprint, row.rule, target, state), T0)
    return engine


def _flush_ms(engine: AlertEngine, now: float) -> float:
    """One flush, rolled back so the next trial sees the same state."""
    with engine.db.connect() as conn:
        tx = conn.begin()
        started = time.perf_counter()
        engine.notifier.flush(conn, now)
        took = (time.perf_counter() - started) * 1000
        tx.rollback()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = _engine(f"sqlite:///{Path(tmp) / 'base.db'}", _config(0), args.alerts)
        muted = _engine(f"sqlite:///{Path(tmp) / 'muted.db'}", _config(args.windows), args.alerts)
        times: dict[str, list[float]] = {"base": [], "muted": []}
        for trial in range(args.trials):  # interleaved, so load drift hits both alike
            times["base"].append(_flush_ms(base, T0 + 60 + trial))
            times["muted"].append(_flush_ms(muted, T0 + 60 + trial))
        for engine in (base, muted):
            engine.outbox.stop()
            engine.db.dispose()
    base_ms, muted_ms = (statistics.median(times[k]) for k in ("base", "muted"))
    print(f"flush of {args.alerts} firing alerts, median of {args.trials} (SQLite):")
    print(f"  baseline (no windows, no remediate)    {base_ms:8.2f} ms")
    print(f"  {args.windows} cron windows + remediation rows {muted_ms:8.2f} ms")
    print(f"  ratio                                  {muted_ms / base_ms:8.2f} x")


if __name__ == "__main__":
    main()
