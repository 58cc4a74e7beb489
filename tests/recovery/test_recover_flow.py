"""The recovery flow with real effects: processes, files, commands, on a real Prefect server."""

import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from prefect.artifacts import Artifact
from sqlmodel import Session, select

from flows.recover import recover
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun, RunState
from tasks.recovery.steps import engine_for
from tests.recovery.conftest import is_alive

PY = sys.executable


def _events(url: str, run_id: int | None = None) -> list[tuple[str, str]]:
    with Session(engine_for(url)) as session:
        query = select(RecoveryAudit).order_by(RecoveryAudit.id)
        if run_id is not None:
            query = query.where(RecoveryAudit.run_id == run_id)
        return [(row.event, row.detail) for row in session.exec(query)]


def _runs(url: str) -> list[RecoveryRun]:
    with Session(engine_for(url)) as session:
        return list(session.exec(select(RecoveryRun).order_by(RecoveryRun.id)))


def _yaml_list(argv: list[str]) -> str:
    return json.dumps(argv)


def test_it_restarts_a_killed_service_and_verifies_it_answers(
    prefect_harness, service, write_config, recovery_db
):
    write_config(f"""
procedures:
  - name: restart-web
    preconditions:
      - {{http: "{service.url}", expect: failing, timeout: 1s}}
    steps:
      - type: process
        name: restart
        pidfile: {service.pidfile}
        start: {_yaml_list(service.argv)}
        grace: 2s
        up: {{tcp: "127.0.0.1:{service.port}"}}
    verify: {{http: "{service.url}", within: 10s}}
""")
    old_pid = service.pid()
    os.kill(old_pid, signal.SIGKILL)  # the crash
    assert not service.is_answering()

    outcome = recover("restart-web", "web-1")

    assert outcome.startswith("succeeded"), outcome
    assert service.pid() != old_pid and is_alive(service.pid())
    assert service.is_answering()
    events = [e for e, _ in _events(recovery_db)]
    assert events[-3:] == [AuditEvent.STEP_SUCCEEDED, AuditEvent.VERIFIED, AuditEvent.SUCCEEDED]
    report = Artifact.get("recovery-restart-web")
    assert report is not None and "**Outcome:** succeeded" in str(report.data)
    assert "| verified | vigil | HTTP 200" in str(report.data)
    # Now healthy: the precondition ("still failing") stops a second run from acting.
    again = recover("restart-web", "web-1")
    assert again.startswith("skipped: cooldown") or again.startswith("skipped: precondition")


def test_a_failing_third_step_rolls_back_the_first_two(
    prefect_harness, service, write_config, recovery_db, tmp_path
):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "a.bin").write_bytes(b"alpha")
    (cache / "sub").mkdir()
    (cache / "sub" / "b.txt").write_text("beta")
    write_config(f"""
procedures:
  - name: deep-clean
    limits: {{cooldown: 0s}}
    steps:
      - {{type: clear, name: clear-cache, paths: ["{cache}"]}}
      - type: process
        name: stop-web
        action: stop
        pidfile: {service.pidfile}
        start: {_yaml_list(service.argv)}
        grace: 2s
        up: {{http: "{service.url}"}}
      - {{type: command, name: migrate, argv: ["{PY}", "-c", "raise SystemExit(3)"]}}
""")
    old_pid = service.pid()

    outcome = recover("deep-clean", "web-1")

    assert outcome.startswith("failed"), outcome
    assert not is_alive(old_pid)  # step 2 really stopped it ...
    assert is_alive(service.pid()) and service.is_answering()  # ... and its rollback restarted it
    assert (cache / "a.bin").read_bytes() == b"alpha"
    assert (cache / "sub" / "b.txt").read_text() == "beta"
    assert not list(tmp_path.glob(".vigil-clear-*"))  # nothing left aside
    rolled = [d for e, d in _events(recovery_db) if e == AuditEvent.ROLLED_BACK]
    assert [d.split(":")[0] for d in rolled] == ["stop-web", "clear-cache"]  # reverse order
    assert _runs(recovery_db)[-1].state == RunState.FAILED


def test_a_step_that_fails_once_is_retried_without_rolling_back_its_siblings(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker, counter = tmp_path / "marker", tmp_path / "attempts"
    flaky = (
        "import pathlib,sys; p=pathlib.Path(sys.argv[1]); "
        "n=int(p.read_text()) if p.exists() else 0; p.write_text(str(n+1)); sys.exit(n == 0)"
    )
    write_config(f"""
procedures:
  - name: flaky
    steps:
      - type: command
        name: mark
        argv: ["{PY}", "-c", "import pathlib,sys; pathlib.Path(sys.argv[1]).write_text('x')",
               "{marker}"]
        rollback: {{type: command, argv: [rm, -f, "{marker}"]}}
      - type: command
        name: flaky
        argv: ["{PY}", "-c", "{flaky}", "{counter}"]
        retries: 2
        retry_delay: 100ms
""")
    outcome = recover("flaky", "db-1")

    assert outcome.startswith("succeeded"), outcome
    assert counter.read_text() == "2"
    assert marker.exists()  # the sibling was not rolled back by the failed first attempt
    assert AuditEvent.ROLLED_BACK not in [e for e, _ in _events(recovery_db)]


def test_dry_run_renders_every_step_and_changes_nothing(
    prefect_harness, service, write_config, recovery_db, tmp_path
):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "keep").write_text("k")
    touched = tmp_path / "touched"
    write_config(f"""
procedures:
  - name: everything
    approval: required
    steps:
      - {{type: clear, paths: ["{cache}"]}}
      - {{type: process, pidfile: {service.pidfile}, start: {_yaml_list(service.argv)}}}
      - {{type: command, argv: [touch, "{touched}"]}}
      - {{type: http, url: "{service.url}hook/{{target}}", json: {{who: "{{labels.team}}"}}}}
""")
    pid = service.pid()
    outcome = recover(
        "everything",
        "web 1",
        labels={"team": "shop"},
        dry_run=True,
    )
    assert outcome.startswith("dry_run: nothing changed")
    assert f"touch', '{touched}'" in outcome
    assert "hook/web%201 json={'who': 'shop'}" in outcome
    assert (cache / "keep").exists() and not touched.exists()
    assert service.pid() == pid and is_alive(pid)
    assert [r.state for r in _runs(recovery_db)] == [RunState.DRY_RUN]
    assert [e for e, _ in _events(recovery_db)] == [AuditEvent.DRY_RUN] * 4


def test_a_procedure_marked_dry_run_only_rehearses_whoever_starts_it(
    prefect_harness, write_config, recovery_db, tmp_path
):
    touched = tmp_path / "touched"
    write_config(f"""
procedures:
  - name: rehearsed
    dry_run: true
    steps:
      - {{type: command, argv: [touch, "{touched}"]}}
""")
    outcome = recover("rehearsed", "web-1", trigger="alert:VigilNotReady")
    assert outcome.startswith("dry_run: nothing changed")
    assert not touched.exists()
    assert [r.state for r in _runs(recovery_db)] == [RunState.DRY_RUN]


def test_hostile_label_values_stay_single_arguments(
    prefect_harness, write_config, recovery_db, tmp_path
):
    out = tmp_path / "argv.json"
    write_config(f"""
procedures:
  - name: echo-args
    limits: {{cooldown: 0s}}
    steps:
      - type: command
        argv: ["{PY}", "-c",
               "import json,sys; open(sys.argv[1],'w').write(json.dumps(sys.argv[2:]))",
               "{out}", "{{labels.instance}}", "--name={{target}}"]
""")
    hostile = "x'; touch pwned; $(touch pwned2) `id` && rm -rf / | cat\n--evil"
    outcome = recover(
        "echo-args",
        "t",
        labels={"instance": hostile.replace("\n", " ")},
    )
    assert outcome.startswith("succeeded"), outcome
    assert json.loads(out.read_text()) == [hostile.replace("\n", " "), "--name=t"]
    assert not list(Path.cwd().glob("pwned*")) and not list(tmp_path.glob("pwned*"))

    for bad in ("--all", "a\nb"):
        refused = recover("echo-args", "t", labels={"instance": bad})
        assert re.match(
            r"skipped: value .* (would turn an argument into an option|contains control)", refused
        )
    assert json.loads(out.read_text())[0] == hostile.replace("\n", " ")  # not run again
    assert [e for e, _ in _events(recovery_db)][-2:] == [AuditEvent.SKIPPED] * 2


def test_two_simultaneous_triggers_on_one_target_produce_one_run(
    prefect_harness, write_config, recovery_db, tmp_path
):
    log, release = tmp_path / "runs.log", tmp_path / "release"
    hold = f"import os,time\\nwhile not os.path.exists('{release}'): time.sleep(0.05)"
    write_config(f"""
procedures:
  - name: slow
    steps:
      - {{type: command, argv: ["{PY}", "-c", "open('{log}','a').write('run\\\\n')"]}}
      - {{type: command, timeout: 60s, argv: ["{PY}", "-c", "{hold}"]}}
""")
    results: list[str] = []

    def trigger() -> None:
        results.append(recover("slow", "db-7"))

    first, second = (threading.Thread(target=trigger) for _ in range(2))
    first.start()
    deadline = time.monotonic() + 60
    while not log.exists():  # the first run holds the target until the test releases it
        assert time.monotonic() < deadline and first.is_alive(), results
        time.sleep(0.05)
    second.start()
    second.join(timeout=60)
    release.touch()
    first.join(timeout=60)

    assert sorted(r.split(":")[0] for r in results) == ["succeeded", "superseded"], results
    assert results[0] == "superseded: run 1 of slow is running"
    assert log.read_text() == "run\n"


def test_a_storm_of_triggers_respects_the_rate_limit(
    prefect_harness, write_config, recovery_db, tmp_path
):
    from tasks.recovery.trigger import request_recovery

    log = tmp_path / "runs.log"
    config = write_config(f"""
procedures:
  - name: bump
    triggers: [HighLatency]
    limits: {{max_runs: 3, window: 1h, cooldown: 0s}}
    steps:
      - {{type: command, argv: ["{PY}", "-c", "open('{log}','a').write('run\\\\n')"]}}
""")
    from models.config import load_config

    procedures = load_config(config).procedures

    def launch(run: RecoveryRun) -> None:
        recover(
            run.procedure,
            run.target,
            run_id=run.id,
            trigger=run.trigger,
        )

    started = [
        request_recovery(
            engine_for(recovery_db),
            procedures,
            "HighLatency",
            "api-1",
            {"severity": "critical"},
            launch=launch,
        )
        for _ in range(100)
    ]
    assert sum(len(s) for s in started) == 3
    assert log.read_text() == "run\n" * 3
    skipped = [d for e, d in _events(recovery_db) if e == AuditEvent.SKIPPED]
    assert len(skipped) == 97 and all(d.startswith("rate limit") for d in skipped)
    assert [r.state for r in _runs(recovery_db)] == [RunState.SUCCEEDED] * 3


def test_it_disables_itself_after_k_consecutive_failures_until_enabled(
    prefect_harness, write_config, recovery_db, tmp_path
):
    from models.config import load_config
    from tasks.recovery.store import enable, guard_of

    config = write_config(f"""
procedures:
  - name: doomed
    limits: {{cooldown: 0s, max_runs: 10, disable_after_failures: 2}}
    steps:
      - {{type: command, argv: ["{PY}", "-c", "raise SystemExit(1)"]}}
""")
    assert recover("doomed", "x").startswith("failed")
    assert recover("doomed", "x").startswith("failed")
    assert recover("doomed", "x").startswith("skipped: disabled after 2 consecutive")
    engine = engine_for(recovery_db)
    assert guard_of(engine, "doomed", "x").is_disabled
    assert AuditEvent.DISABLED in [e for e, _ in _events(recovery_db)]

    enable(engine, load_config(config).procedures[0], "x", actor="alice")
    assert not guard_of(engine, "doomed", "x").is_disabled
    assert recover("doomed", "x").startswith("failed")  # it acts again


def test_a_failing_member_of_a_parallel_group_rolls_back_the_others(
    prefect_harness, write_config, recovery_db, tmp_path
):
    a, b = tmp_path / "a", tmp_path / "b"
    for path in (a, b):
        path.write_text("data")
    write_config(f"""
procedures:
  - name: fan-out
    steps:
      - type: parallel
        steps:
          - {{type: clear, name: clear-a, paths: ["{a}"]}}
          - {{type: clear, name: clear-b, paths: ["{b}"]}}
          - type: command
            name: boom
            argv: ["{PY}", "-c", "import time; time.sleep(0.5); raise SystemExit(2)"]
""")
    outcome = recover("fan-out", "h")
    assert outcome.startswith("failed"), outcome
    assert a.read_text() == "data" and b.read_text() == "data"
    rolled = sorted(d.split(":")[0] for e, d in _events(recovery_db) if e == AuditEvent.ROLLED_BACK)
    assert rolled == ["clear-a", "clear-b"]


def test_systemd_steps_are_skipped_cleanly_without_systemd(
    prefect_harness, write_config, recovery_db
):
    if Path("/run/systemd/system").is_dir():
        pytest.skip("systemd runs here; restarting a real unit is not a test's business")
    write_config("""
procedures:
  - name: unit
    steps:
      - {type: systemd, unit: "web@{target}.service"}
""")
    outcome = recover("unit", "blue")
    assert outcome.startswith("succeeded"), outcome
    details = [d for e, d in _events(recovery_db) if e == AuditEvent.STEP_SUCCEEDED]
    assert details == [
        "1-systemd: skipped: systemd is not running here; web@blue.service left alone"
    ]


def test_a_procedure_refuses_targets_outside_its_allow_list(
    prefect_harness, write_config, recovery_db, tmp_path
):
    touched = tmp_path / "touched"
    write_config(f"""
targets:
  - name: a
  - name: b
procedures:
  - name: only-a
    targets: [a]
    steps:
      - {{type: command, argv: [touch, "{touched}"]}}
""")
    outcome = recover("only-a", "b")
    assert outcome == "skipped: only-a may not act on b; allowed: ['a']"
    assert not touched.exists() and _runs(recovery_db) == []
