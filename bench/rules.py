"""Rule-feature benchmark: backtest speed, and the cost of tiers and the trust gate.

    .venv/bin/python bench/rules.py [--days 2] [--samples 100000]

Backtest: ``--days`` of one series every 10 s, replayed through a rule at the alert-sweep
step (15 s); baseline: the same batches written and swept through a live engine the
normal way (store write, seam, sweep), in the same command. Fast path: quiet samples
through ``AlertEngine.on_batch`` with 1,000 plain rules, against 1,000 two-tier rules; and
1,000 anomaly rules without and with the trust gate (min_history), in the same command.
"""

import argparse
import math
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore, NewSample
from tasks.alerting.backtest import backtest
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.store.batch_hooks import BatchWritten

START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
RULE = "rules:\n  - {name: Hot, series: cpu, value: 90, for: 1m}\n"


def history(days: float) -> list[NewSample]:
    count = int(days * 8640)
    return [
        NewSample("cpu", {"target": "a"}, START + 10 * i + 3, 60 + 35 * math.sin(i / 40))
        for i in range(count)
    ]


def live(url: str, samples: list[NewSample], end: float) -> float:
    """Seconds to write and sweep the history step by step through a live engine."""
    db = make_engine(url)
    engine = AlertEngine(db, build_plan(parse_config(RULE)), store=MetricStore(db), emit=None)
    began, at, i = time.perf_counter(), START, 0
    while at < end:
        at += 15
        batch = []
        while i < len(samples) and samples[i].ts <= at:
            batch.append(samples[i])
            i += 1
        if batch:
            engine.store.write(batch)  # type: ignore[union-attr]
            engine.on_batch(BatchWritten("bench", datetime.fromtimestamp(at, UTC), batch))
        engine.sweep(at, deliver=False)
    elapsed = time.perf_counter() - began
    db.dispose()
    return elapsed


def replayed(url: str, end: float, scratch: Path) -> float:
    """Seconds for ``backtest`` over the stored history."""
    db = make_engine(url)
    began = time.perf_counter()
    backtest(parse_config(RULE), "Hot", MetricStore(db), start=START, end=end, scratch=scratch)
    elapsed = time.perf_counter() - began
    db.dispose()
    return elapsed


def rules_yaml(kind: str) -> str:
    lines = ["rules:"]
    for i in range(1000):
        if kind == "plain":
            lines.append(f"  - {{name: r{i}, series: 'm{i}', value: {1000 + i}}}")
        elif kind == "tiers":
            lines.append(
                f"  - {{name: r{i}, series: 'm{i}', tiers: [{{severity: warning, "
                f"value: {1000 + i}, clear: {900 + i}}}, "
                f"{{severity: critical, value: {2000 + i}}}]}}"
            )
        else:
            gate = ", min_history: 1d" if kind == "gated" else ""
            lines.append(f"  - {{name: r{i}, kind: anomaly, series: 'm{i}'{gate}}}")
    return "\n".join(lines) + "\n"


def fast_path(url: str, kind: str, total: int) -> float:
    """Quiet samples per second through on_batch for 1,000 rules of ``kind``."""
    db = make_engine(url)
    plan = build_plan(parse_config(rules_yaml(kind)))
    engine = AlertEngine(db, plan, store=MetricStore(db), emit=None)
    engine._is_warm = True  # no windows to warm: measure the judging only
    name = "vigil_anomaly_score" if kind in ("anomaly", "gated") else "m{}"
    samples = [
        NewSample(
            name.format(i % 1000),
            {"metric": f"m{i % 1000}", "host": f"h{i % 100}"},
            START + i // 1000,
            0.1,
        )
        for i in range(total)
    ]
    now = datetime.now(UTC)
    began = time.perf_counter()
    for start in range(0, total, 10_000):
        engine.on_batch(BatchWritten("bench", now, samples[start : start + 10_000]))
    elapsed = time.perf_counter() - began
    db.dispose()
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--samples", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store_url, live_url = f"sqlite:///{tmp}/store.db", f"sqlite:///{tmp}/live.db"
        upgrade(store_url)
        upgrade(live_url)
        samples = history(args.days)
        MetricStore(make_engine(store_url)).write(samples)
        end = START + args.days * 86400
        base = live(live_url, samples, end)
        took = replayed(store_url, end, Path(tmp) / "scratch.db")
        print(
            f"backtest of {args.days:g} days ({len(samples):,} samples, 15 s steps): {took:.1f} s "
            f"({args.days * 86400 / took:,.0f}x real time); the live path the normal way: "
            f"{base:.1f} s; ratio {took / base:.2f}"
        )
        rates = {}
        for kind in ("plain", "tiers", "anomaly", "gated"):
            url = f"sqlite:///{tmp}/{kind}.db"
            upgrade(url)
            rates[kind] = fast_path(url, kind, args.samples)
        print(
            f"fast path, 1,000 rules, quiet samples: plain {rates['plain']:,.0f}/s; "
            f"two tiers {rates['tiers']:,.0f}/s ({rates['tiers'] / rates['plain']:.2f}x); "
            f"anomaly {rates['anomaly']:,.0f}/s, the same behind the trust gate "
            f"(min_history) {rates['gated']:,.0f}/s ({rates['gated'] / rates['anomaly']:.2f}x)"
        )


if __name__ == "__main__":
    main()
