"""`vigil rules backtest`: stored history through a rule, counted before it is enabled."""

import json
import math
from datetime import UTC, datetime

from typer.testing import CliRunner

from models.config import parse_config
from models.db import make_engine
from models.recovery import RunState
from models.store import MetricStore, NewSample
from tasks.alerting.replay import count_effects
from tasks.recovery.store import finish
from tests.alerting.helpers import T0, recovery_hook, write
from vigil.cli import app

STEP = 15.0
HOURS = 3
CONFIG = """
rules:
  - name: HighCpu
    series: cpu
    value: 90
    for: 1m
    procedure: shed-load
  - {name: Quiet, series: other, value: 1}
channels:
  - {name: ops, url: "json://127.0.0.1:9/never"}
  - {name: pager, url: "json://127.0.0.1:9/never"}
routes:
  - match: '{target="web-1"}'
    channels: [pager]
    group_by: [alertname]
    group_interval: 5m
alerting:
  default: {group_wait: 30s, group_interval: 2m, repeat_interval: 1h}
procedures:
  - name: shed-load
    steps: [{name: shed, type: command, argv: [/bin/true]}]
    limits: {max_runs: 1, window: 1h, cooldown: 30m}
"""


def history(start: float) -> list[NewSample]:
    """Two targets, a sample every 10 s; bursts above 90 of different lengths."""
    out = []
    for i in range(int(HOURS * 360)):
        at = start + 3 + 10 * i
        for n, target in enumerate(["web-1", "web-2"]):
            burst = math.sin((i + 90 * n) / 40.0) + 0.05 * math.sin(i / 3.1)
            out.append(NewSample("cpu", {"target": target}, at, 60 + 35 * burst))
    return out


def replay_the_normal_way(make_alert_engine, sqlite_url, time_machine, samples, start, end):
    """Write each step's samples through the store and seam, sweep like alert-sweep does."""
    config = parse_config(CONFIG)
    db = make_engine(sqlite_url)
    procedure = config.procedures[0]

    def launch(run) -> None:  # the boundary to the served deployment: it succeeds at once
        finish(db, procedure, run.id, RunState.SUCCEEDED, "ok", now=datetime.now(UTC))

    engine = make_alert_engine(CONFIG, on_firing=[recovery_hook(config, db, launch)])
    at, i = start, 0
    engine.sweep(start, deliver=False)
    while at < end:
        at = min(at + STEP, end)
        time_machine.move_to(datetime.fromtimestamp(at, UTC), tick=False)
        batch = []
        while i < len(samples) and samples[i].ts <= at:
            s = samples[i]
            batch.append((s.name, s.labels, s.value, s.ts))
            i += 1
        if batch:
            write(engine, at, batch)
        engine.sweep(at, deliver=False)
    return count_effects(engine.db)


def test_the_backtest_counts_what_a_replay_through_the_engine_caused(
    make_alert_engine, sqlite_url, time_machine, tmp_path
):
    start, end = T0, T0 + HOURS * 3600
    samples = history(start)
    live = replay_the_normal_way(make_alert_engine, sqlite_url, time_machine, samples, start, end)
    assert live.alerts >= 4 and live.recoveries >= 2 and live.recoveries_refused >= 1
    assert set(live.by_channel) == {"ops", "pager"}

    (tmp_path / "vigil.yaml").write_text(CONFIG)
    time_machine.move_to(datetime.fromtimestamp(end, UTC), tick=False)
    args = ["rules", "backtest", "HighCpu", "--since", f"{HOURS}h", "--json"]
    done = CliRunner().invoke(
        app, [*args, "--config", str(tmp_path / "vigil.yaml"), "--db", sqlite_url]
    )
    assert done.exit_code == 0, done.output
    counted = json.loads(done.stdout.strip().splitlines()[-1])
    assert counted == live.__dict__


def test_a_rule_given_in_a_file_is_backtested_with_progress_and_a_summary(
    sqlite_url, time_machine, tmp_path
):
    db = make_engine(sqlite_url)
    MetricStore(db).write(history(T0))
    db.dispose()
    (tmp_path / "vigil.yaml").write_text(CONFIG)
    (tmp_path / "try.yaml").write_text("rules:\n  - {name: HotCpu, series: cpu, value: 80}\n")
    time_machine.move_to(datetime.fromtimestamp(T0 + 3600, UTC), tick=False)
    args = ["rules", "backtest", "HotCpu", "--since", "1h", "--file", str(tmp_path / "try.yaml")]
    done = CliRunner().invoke(
        app, [*args, "--config", str(tmp_path / "vigil.yaml"), "--db", sqlite_url]
    )
    assert done.exit_code == 0, done.output
    assert "replayed to 2026-03-01 12:00:15 UTC (0%)" in done.stderr
    assert "backtest of HotCpu from 2026-03-01 12:00:00 to 2026-03-01 13:00:00 UTC" in done.stdout
    assert "720 samples" in done.stdout and "alerts fired:" in done.stdout
    assert "recoveries:     0 launched, 0 refused" in done.stdout


def test_an_unknown_rule_is_named_with_the_known_ones(tmp_path, sqlite_url):
    (tmp_path / "vigil.yaml").write_text(CONFIG)
    args = ["rules", "backtest", "Nope", "--config", str(tmp_path / "vigil.yaml")]
    done = CliRunner().invoke(app, [*args, "--db", sqlite_url])
    assert done.exit_code == 2
    assert "no rule 'Nope'; known: HighCpu, Quiet" in done.output
