"""A busy target queues other recoveries; the same procedure again is recorded as superseded."""

import sys
import time
from datetime import UTC, datetime

from sqlmodel import Session, select

from flows.recover import recover
from models.config import load_config
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun, RunState
from tasks.recovery.approval import answer_approval
from tasks.recovery.steps import engine_for
from tasks.recovery.store import admit
from tests.recovery.test_approval import (
    code_for,
    operators_yaml,
    start_in_thread,
    wait_until_paused,
)

PY = sys.executable


def _config(write_config, marker, *, queue_timeout: str = "1m") -> str:
    return write_config(f"""{operators_yaml("ann")}
procedures:
  - name: gated
    approval: required
    approval_timeout: 1m
    steps:
      - {{type: command, argv: ["true"]}}
  - name: flush
    limits: {{queue_timeout: {queue_timeout}}}
    steps:
      - type: command
        argv: ["{PY}", "-c", "import pathlib,sys; pathlib.Path(sys.argv[1]).write_text('x')",
               "{marker}"]
""")


def _admitted(url: str, config: str, procedure: str, target: str) -> int:
    """Admit a run as an alert trigger does, before its flow starts."""
    proc = next(p for p in load_config(config).procedures if p.name == procedure)
    run, why = admit(
        engine_for(url), proc, target, trigger="alert:Down", labels={}, now=datetime.now(UTC)
    )
    assert run is not None and run.id is not None, why
    return run.id


def _start(url: str, config: str, procedure: str, target: str):  # type: ignore[no-untyped-def]
    """Admit a run and start its flow in a thread; return the run id, the thread and its box."""
    run_id = _admitted(url, config, procedure, target)
    thread, box = start_in_thread(procedure=procedure, target=target, run_id=run_id)
    return run_id, thread, box


def _run(url: str, run_id: int) -> RecoveryRun:
    with Session(engine_for(url)) as session:
        run = session.get(RecoveryRun, run_id)
        assert run is not None
        return run


def _audit(url: str, run_id: int) -> list[tuple[str, str]]:
    with Session(engine_for(url)) as session:
        rows = session.exec(select(RecoveryAudit).where(RecoveryAudit.run_id == run_id))
        return [(r.event, r.detail) for r in rows]


def _wait_state(url: str, run_id: int, state: RunState, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while _run(url, run_id).state != state:
        assert time.monotonic() < deadline, _run(url, run_id)
        time.sleep(0.1)


def test_a_recovery_behind_one_awaiting_approval_queues_and_runs_once_the_target_is_free(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "flushed"
    config = _config(write_config, marker)
    gated_id, gated, gated_box = _start(recovery_db, config, "gated", "q-1")
    flow_run_id = wait_until_paused("q-1")

    flush_id, flush, flush_box = _start(recovery_db, config, "flush", "q-1")
    _wait_state(recovery_db, flush_id, RunState.QUEUED)
    assert not marker.exists()  # nothing acts while the target is held
    assert (AuditEvent.QUEUED, f"behind run {gated_id} of gated (awaiting_approval)") in _audit(
        recovery_db, flush_id
    )

    answer_approval(
        flow_run_id,
        approved=False,
        reason="not now",
        approver="ann",
        code=code_for(recovery_db, "ann", flow_run_id),
    )
    gated.join(timeout=60)
    flush.join(timeout=60)
    assert gated_box["result"].startswith("rejected"), gated_box
    assert flush_box["result"].startswith("succeeded"), flush_box
    assert marker.exists()
    assert _run(recovery_db, flush_id).state == RunState.SUCCEEDED


def test_the_same_procedure_triggered_again_is_recorded_as_superseded(
    prefect_harness, write_config, recovery_db, tmp_path
):
    config = _config(write_config, tmp_path / "flushed")
    first_id, first, first_box = _start(recovery_db, config, "gated", "q-2")
    flow_run_id = wait_until_paused("q-2")

    again_id = _admitted(recovery_db, config, "gated", "q-2")
    outcome = recover("gated", "q-2", run_id=again_id)
    assert outcome == f"superseded: run {first_id} of gated is awaiting_approval"
    assert _run(recovery_db, again_id).state == RunState.SUPERSEDED
    assert _audit(recovery_db, again_id)[-1] == (AuditEvent.SUPERSEDED, outcome.split(": ", 1)[1])

    answer_approval(
        flow_run_id,
        approved=True,
        reason="ok",
        approver="ann",
        code=code_for(recovery_db, "ann", flow_run_id),
    )
    first.join(timeout=60)
    assert first_box["result"].startswith("succeeded"), first_box


def test_a_queued_recovery_gives_up_after_its_queue_timeout_and_says_why(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "flushed"
    config = _config(write_config, marker, queue_timeout="2s")
    gated_id, gated, _box = _start(recovery_db, config, "gated", "q-3")
    flow_run_id = wait_until_paused("q-3")

    flush_id = _admitted(recovery_db, config, "flush", "q-3")
    outcome = recover("flush", "q-3", run_id=flush_id)
    assert outcome == f"skipped: gave up after waiting 0:00:02 for run {gated_id} of gated on q-3"
    assert not marker.exists()
    assert [e for e, _ in _audit(recovery_db, flush_id)] == [
        AuditEvent.ADMITTED, AuditEvent.QUEUED, AuditEvent.SKIPPED,
    ]  # fmt: skip

    answer_approval(
        flow_run_id,
        approved=False,
        reason="done",
        approver="ann",
        code=code_for(recovery_db, "ann", flow_run_id),
    )
    gated.join(timeout=60)
