"""A worker killed mid-recovery: its run ends FAILED with the step it reached, audited, once."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.recovery import AuditEvent
from models.vocabulary.run_states import RunState
from tasks.recovery.orphans import end_orphaned_runs
from tasks.recovery.store import admit, audit, audit_trail, recent_runs, run_by_id, set_state
from tasks.store import shared_counters

NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def test_a_dead_workers_run_fails_with_its_steps_named_and_only_once(db_url):
    procedure = parse_config(
        "procedures:\n  - name: restart\n    steps: [{type: wait, duration: 1s}]"
    ).procedures[0]
    db = make_engine(db_url)
    run, why = admit(db, procedure, "web-1", trigger="cli", labels={}, now=NOW)
    assert run is not None and run.id is not None, why
    set_state(db, run.id, RunState.RUNNING, flow_run_id="flow-run-1")
    audit(db, "restart", "web-1", AuditEvent.STEP_SUCCEEDED, "drain: ok", run_id=run.id, now=NOW)
    other, _ = admit(db, procedure, "web-2", trigger="cli", labels={}, now=NOW)
    assert other is not None and other.id is not None
    set_state(db, other.id, RunState.RUNNING, flow_run_id="flow-run-2")  # its worker lives

    later = NOW + timedelta(minutes=3)
    assert end_orphaned_runs(db, ["flow-run-1"], "its process is gone", now=later) == [run.id]
    assert end_orphaned_runs(db, ["flow-run-1"], "its process is gone", now=later) == []

    ended = run_by_id(db, run.id)
    assert ended is not None and ended.state == RunState.FAILED
    assert ended.message.startswith("worker died (its process is gone) while running")
    assert "in step 2 after 1 steps (drain); they were not rolled back" in ended.message
    trail = [(a.event, a.detail) for a in audit_trail(db, run.id)]
    assert trail[-1] == (AuditEvent.FAILED, ended.message)
    assert [e for e, _ in trail].count(AuditEvent.FAILED) == 1
    still = run_by_id(db, other.id)
    assert still is not None and still.state == RunState.RUNNING
    counted = shared_counters.read(db)[shared_counters.RECOVERIES_RUN]
    assert counted == {'{"outcome": "failed", "procedure": "restart"}': 1.0}
    db.dispose()


@pytest.mark.slow  # three `vigil recovery run` processes, each with its own Prefect server
def test_a_killed_recovery_command_is_failed_and_its_target_freed_by_the_next_command(tmp_path):
    """A real `vigil recovery run` is SIGKILLed in its second (slow) step.

    The next command on this host, as in production, marks the dead process's flow run
    Crashed and its recovery run FAILED (stale_runs_api → orphans.py) before admitting its
    own run on the same target; a third command finds nothing left to end.
    """
    started, db = tmp_path / "step-2-started", f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(db)
    config = tmp_path / "vigil.yaml"
    config.write_text(f"""
procedures:
  - name: slow
    limits: {{cooldown: 0s}}
    steps:
      - {{name: prepare, type: command, argv: [touch, "{tmp_path / "prepared"}"]}}
      - {{name: drain, type: command, argv: [sh, -c, 'touch "{started}"; exec sleep 300']}}
  - name: quick
    limits: {{cooldown: 0s}}
    steps:
      - {{name: restart, type: command, argv: [touch, "{tmp_path / "restarted"}"]}}
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), **STARTUP}
    env |= {"VIGIL_STATE_DIR": str(tmp_path / ".vigil")}  # ours: --as-admin works
    (tmp_path / ".vigil").mkdir()
    argv = [sys.executable, "-m", "vigil.cli", "recovery", "run", "--config", str(config)]
    argv += ["--db", db, "-t", "web-1", "--as-admin"]
    worker = subprocess.Popen([*argv, "slow"], env=env, cwd=REPO, start_new_session=True)
    engine = make_engine(db)
    try:
        _wait_for(lambda: started.exists() or worker.poll() is not None, 240)
        assert worker.poll() is None, "the recovery command ended before its slow step"
        (run,) = recent_runs(engine)
        assert [a.event for a in audit_trail(engine, run.id)][-1] == AuditEvent.STEP_SUCCEEDED
        helpers = psutil.Process(worker.pid).children(recursive=True)
        worker.send_signal(signal.SIGKILL)  # the worker dies mid-step
        worker.wait(10)
        psutil.wait_procs([p for p in helpers if "sleep" not in p.name()], timeout=30)
        assert _run(engine, run.id).state == RunState.RUNNING  # nobody ended it yet

        second = subprocess.run(
            [*argv, "quick"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
        )
        assert second.returncode == 0 and second.stdout.startswith("succeeded"), second.stderr
        assert f"recovery run {run.id} of" in second.stderr and "its worker died" in second.stderr
        assert "released the recovery lock of target web-1" in second.stderr
        third = subprocess.run(
            [*argv, "quick"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
        )
        assert third.returncode == 0 and "marked failed" not in third.stderr, third.stderr
    finally:
        if worker.poll() is None:
            worker.kill()
        os.killpg(worker.pid, signal.SIGKILL)  # the step's orphaned `sleep`

    ended = _run(engine, run.id)
    assert ended.state == RunState.FAILED
    assert (
        "while running, in step 2 after 1 steps (prepare); they were not rolled back"
        in ended.message
    )
    events = [a.event for a in audit_trail(engine, run.id)]
    assert events.count(AuditEvent.FAILED) == 1 and events[-1] == AuditEvent.FAILED
    later = [r for r in recent_runs(engine) if r.id != run.id]
    assert [(r.procedure, r.target, r.state) for r in later] == [
        ("quick", "web-1", RunState.SUCCEEDED)
    ] * 2
    counted = shared_counters.read(engine)[shared_counters.RECOVERIES_RUN]
    assert counted['{"outcome": "failed", "procedure": "slow"}'] == 1.0
    engine.dispose()


STARTUP = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"}


def _run(engine, run_id: int):  # type: ignore[no-untyped-def]
    found = run_by_id(engine, run_id)
    assert found is not None
    return found


def _wait_for(condition, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {timeout_s:g} s"
        time.sleep(0.2)
