"""Approvals through the Prefect API: approve, reject, time out; and the CLI's approve/reject."""

import sys
import threading
import time
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from sqlmodel import Session, select
from typer.testing import CliRunner

from flows.recover import recover
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun, RunState
from tasks.recovery.approval import answer_approval
from tasks.recovery.steps import engine_for
from vigil.cli import app

PY = sys.executable


def wait_until_paused(target: str, timeout_s: float = 60) -> UUID:
    """Find the paused recovery run for ``target`` (what an operator sees in the UI)."""
    paused = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            for run in client.read_flow_runs(flow_run_filter=paused, limit=50, sort=None):
                if run.parameters.get("target") == target:
                    return run.id
            time.sleep(0.2)
    raise TimeoutError(f"no paused run for {target}")


def start_in_thread(**kwargs) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def body() -> None:
        try:
            box["result"] = recover(**kwargs)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    return thread, box


def _config(write_config, marker, *, timeout: str = "1m", step_level: bool = False) -> str:
    where = "        approval: required\n" if step_level else ""
    top = "" if step_level else f"    approval: required\n    approval_timeout: {timeout}\n"
    return write_config(f"""
procedures:
  - name: gated
{top}    steps:
      - type: command
        argv: ["{PY}", "-c", "import pathlib,sys; pathlib.Path(sys.argv[1]).write_text('x')",
               "{marker}"]
        rollback: {{type: command, argv: [rm, -f, "{marker}"]}}
      - type: command
        argv: ["true"]
{where}""")


def _audit(url: str) -> list[RecoveryAudit]:
    with Session(engine_for(url)) as session:
        return list(session.exec(select(RecoveryAudit).order_by(RecoveryAudit.id)))


def test_an_approved_run_acts_and_records_the_approver(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    _config(write_config, marker)
    thread, box = start_in_thread(procedure="gated", target="ap-1")
    run_id = wait_until_paused("ap-1")
    assert not marker.exists()  # nothing happens before the answer
    result = CliRunner().invoke(
        app, ["recovery", "approve", str(run_id), "--reason", "ops ok", "--approver", "alice"]
    )
    assert result.exit_code == 0, result.output
    thread.join(timeout=60)
    assert box["result"].startswith("succeeded"), box
    assert marker.exists()
    approved = [r for r in _audit(recovery_db) if r.event == AuditEvent.APPROVED]
    assert [(r.actor, r.detail) for r in approved] == [("alice", "run: ops ok")]


def test_a_rejected_run_ends_cleanly_with_nothing_changed(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    _config(write_config, marker)
    thread, box = start_in_thread(procedure="gated", target="ap-2")
    run_id = wait_until_paused("ap-2")
    result = CliRunner().invoke(
        app,
        ["recovery", "reject", str(run_id), "--reason", "not during sale", "--approver", "bob"],
    )
    assert result.exit_code == 0, result.output
    thread.join(timeout=60)
    assert box["result"].startswith("rejected"), box
    assert not marker.exists()
    rejected = [r for r in _audit(recovery_db) if r.event == AuditEvent.REJECTED]
    assert [(r.actor, r.detail) for r in rejected] == [("bob", "run: not during sale")]
    with Session(engine_for(recovery_db)) as session:
        assert session.exec(select(RecoveryRun)).one().state == RunState.REJECTED


def test_a_refused_step_approval_rolls_back_the_steps_before_it(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    _config(write_config, marker, step_level=True)
    thread, box = start_in_thread(procedure="gated", target="ap-3")
    run_id = wait_until_paused("ap-3")
    assert marker.exists()  # step 1 ran before the gate of step 2
    answer_approval(run_id, approved=False, reason="changed my mind", approver="carol")
    thread.join(timeout=60)
    assert box["result"].startswith("rejected"), box
    assert not marker.exists()


def test_an_unanswered_approval_rejects_by_default(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    _config(write_config, marker, timeout="2s")
    outcome = recover("gated", "ap-4")
    assert outcome.startswith("rejected"), outcome
    assert not marker.exists()
    rejected = [r for r in _audit(recovery_db) if r.event == AuditEvent.REJECTED]
    assert rejected[0].actor == "timeout" and "the timeout decides: reject" in rejected[0].detail


def test_a_timeout_can_be_configured_to_approve(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    write_config(f"""
procedures:
  - name: unattended
    approval: required
    approval_timeout: 1s
    on_approval_timeout: approve
    steps:
      - {{type: command, argv: [touch, "{marker}"]}}
""")
    state = recover("unattended", "ap-5", return_state=True)
    assert marker.exists()
    with Session(engine_for(recovery_db)) as session:
        assert session.exec(select(RecoveryRun)).one().state == RunState.SUCCEEDED
    # Prefect 3.8.8 ends any run whose pause expired as Failed, even though it went on.
    assert state.is_failed() and "never resumed" in (state.message or "")
    approved = [r for r in _audit(recovery_db) if r.event == AuditEvent.APPROVED]
    assert approved[0].actor == "timeout"
