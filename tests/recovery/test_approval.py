"""Approvals through the Prefect API: approve, reject, time out; and the CLI's approve/reject.

Every answer names a configured operator and carries that operator's one-time code. The CLI
gets one for its API token's user (path cli), or is given one the dashboard showed.
"""

import json
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
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
from models.access import ApprovalPath
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun, RunState
from models.vocabulary.passwords import hash_password
from tasks.recovery.approval import CODE_REMOVED, answer_approval
from tasks.recovery.approval_codes import issue_code
from tasks.recovery.steps import engine_for
from vigil.cli import app

PY = sys.executable
_HASH = hash_password("not-used-here")


def operators_yaml(*names: str, role: str = "operator") -> str:
    """The dashboard users section naming ``names`` with ``role``."""
    users = "".join(
        f"    - {{name: {name}, role: {role}, password_hash: '{_HASH}'}}\n" for name in names
    )
    return f"dashboard:\n  users:\n{users}"


@pytest.fixture
def no_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No token of the machine's (environment or ~/.config/vigil/token) reaches the CLI."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VIGIL_API_TOKEN", raising=False)


def cli_token(name: str, user: str, role: str = "operator") -> str:
    """Make an API token with `vigil api token create` (config and store as served)."""
    made = CliRunner().invoke(app, ["api", "token", "create", name, "--user", user, "-r", role])
    assert made.exit_code == 0, made.output
    return made.stdout.strip().splitlines()[-1]


def code_for(url: str, user: str, run_id: UUID, path: ApprovalPath = ApprovalPath.CLI) -> str:
    """What the dashboard shows ``user`` for ``run_id``."""
    return issue_code(engine_for(url), user, str(run_id), path, now=datetime.now(UTC))


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


def stored_answers(run_id: UUID) -> list[dict]:
    """The answers Prefect keeps for a run (``flow_run_input``), oldest first."""
    with get_client(sync_client=True) as client:
        inputs = client.filter_flow_run_input(run_id, "", limit=100, exclude_keys=set())
    answers = sorted((i for i in inputs if i.key.endswith("-response")), key=lambda i: i.created)
    return [json.loads(i.value) for i in answers]


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


def _config(
    write_config,
    marker,
    *,
    timeout: str = "1m",
    step_level: bool = False,
    dangerous: bool = False,
    users: str = "",
) -> str:
    where = "        approval: required\n" if step_level else ""
    top = "" if step_level else f"    approval: required\n    approval_timeout: {timeout}\n"
    top += "    dangerous: true\n" if dangerous else ""
    users = users or operators_yaml("alice", "bob", "carol")
    return write_config(f"""{users}
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
    prefect_harness, write_config, recovery_db, tmp_path, no_identity
):
    marker = tmp_path / "marker"
    _config(write_config, marker)
    thread, box = start_in_thread(procedure="gated", target="ap-1")
    run_id = wait_until_paused("ap-1")
    assert not marker.exists()  # nothing happens before the answer
    alice = cli_token("cli-alice", "alice")
    approve = ["recovery", "approve", str(run_id), "-r", "ops ok"]
    result = CliRunner().invoke(app, approve, env={"VIGIL_API_TOKEN": alice})
    assert result.exit_code == 0, result.output
    assert "acting as alice (token cli-alice from $VIGIL_API_TOKEN)" in result.stderr
    thread.join(timeout=60)
    assert box["result"].startswith("succeeded"), box
    assert marker.exists()
    approved = [r for r in _audit(recovery_db) if r.event == AuditEvent.APPROVED]
    assert [(r.actor, r.detail, r.path) for r in approved] == [("alice", "run: ops ok", "cli")]


def test_a_rejected_run_ends_cleanly_with_nothing_changed(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    _config(write_config, marker)
    thread, box = start_in_thread(procedure="gated", target="ap-2")
    run_id = wait_until_paused("ap-2")
    code = code_for(recovery_db, "bob", run_id)
    reject = ["recovery", "reject", str(run_id), "--reason", "not during sale", "--approver", "bob"]
    result = CliRunner().invoke(app, [*reject, "--code", code])
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
    code = code_for(recovery_db, "carol", run_id)
    answer_approval(run_id, approved=False, reason="changed my mind", approver="carol", code=code)
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


def _wait_for_audit(url: str, event: AuditEvent, count: int, within_s: float = 30) -> None:
    deadline = time.monotonic() + within_s
    while sum(r.event == event for r in _audit(url)) < count:
        assert time.monotonic() < deadline, f"no {count} {event} rows: {_audit(url)}"
        time.sleep(0.2)


def _paused_again(run_id: UUID, within_s: float = 30) -> None:
    """Wait until the run has read the last answer and paused anew."""
    deadline = time.monotonic() + within_s
    with get_client(sync_client=True) as client:
        while client.read_flow_run(run_id).state_type != StateType.PAUSED:
            assert time.monotonic() < deadline, "the run did not pause again"
            time.sleep(0.2)


def test_a_wrong_or_spent_code_is_refused_audited_and_the_run_waits_again(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    _config(write_config, marker)
    thread, box = start_in_thread(procedure="gated", target="id-1")
    run_id = wait_until_paused("id-1")
    answer_approval(run_id, approved=True, reason="trust me", approver="alice", code="WRONG12345")
    _wait_for_audit(recovery_db, AuditEvent.APPROVAL_REFUSED, 1)
    _paused_again(run_id)
    assert not marker.exists()
    bobs = code_for(recovery_db, "bob", run_id)  # bob's code, typed under alice's name
    answer_approval(run_id, approved=True, reason="borrowed", approver="alice", code=bobs)
    _wait_for_audit(recovery_db, AuditEvent.APPROVAL_REFUSED, 2)
    _paused_again(run_id)
    answer_approval(run_id, approved=True, reason="mine", approver="bob", code=bobs)
    thread.join(timeout=60)
    assert box["result"].startswith("succeeded"), box
    rows = [(r.event, r.actor, r.path) for r in _audit(recovery_db) if r.actor != "vigil"]
    assert rows == [
        (AuditEvent.APPROVAL_REFUSED, "alice", ""),
        (AuditEvent.APPROVAL_REFUSED, "alice", ""),
        (AuditEvent.APPROVED, "bob", "cli"),
    ]
    refused = [r.detail for r in _audit(recovery_db) if r.event == AuditEvent.APPROVAL_REFUSED]
    assert all("code is wrong, expired, already used" in d for d in refused), refused
    # Prefect keeps the three answers (its API shows them), none with its code.
    answers = stored_answers(run_id)
    assert [(a["approver"], a["reason"]) for a in answers] == [
        ("alice", "trust me"),
        ("alice", "borrowed"),
        ("bob", "mine"),
    ]
    assert {a["code"] for a in answers} == {CODE_REMOVED}


def test_a_non_operator_cannot_approve_even_after_being_shown_a_code(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    config = _config(write_config, marker, users=operators_yaml("alice", "mallory"))
    thread, box = start_in_thread(procedure="gated", target="id-2")
    run_id = wait_until_paused("id-2")
    # A name that is not one of the form's choices: Prefect itself refuses the answer.
    try:
        answer_approval(run_id, approved=True, reason="x", approver="eve", code="X")
    except RuntimeError as exc:
        assert "Validation failed" in str(exc)
    else:
        raise AssertionError("Prefect accepted an approver outside the form's choices")
    # mallory got a code while an operator, then was made a viewer: it no longer counts.
    code = code_for(recovery_db, "mallory", run_id)
    text = (
        Path(config)
        .read_text()
        .replace("{name: mallory, role: operator", "{name: mallory, role: viewer")
    )
    Path(config).write_text(text)
    answer_approval(run_id, approved=True, reason="let me", approver="mallory", code=code)
    _wait_for_audit(recovery_db, AuditEvent.APPROVAL_REFUSED, 1)
    _paused_again(run_id)
    assert not marker.exists()
    answer_approval(
        run_id,
        approved=False,
        reason="no",
        approver="alice",
        code=code_for(recovery_db, "alice", run_id),
    )
    thread.join(timeout=60)
    assert box["result"].startswith("rejected"), box
    refused = [r for r in _audit(recovery_db) if r.event == AuditEvent.APPROVAL_REFUSED]
    assert [(r.actor, r.detail) for r in refused] == [
        ("mallory", "run: 'mallory' is not an operator; operators: alice")
    ]


def test_a_dangerous_procedure_waits_for_a_second_different_operator(
    prefect_harness, write_config, recovery_db, tmp_path
):
    marker = tmp_path / "marker"
    _config(write_config, marker, dangerous=True)
    thread, box = start_in_thread(procedure="gated", target="id-3")
    run_id = wait_until_paused("id-3")
    answer_approval(
        run_id,
        approved=True,
        reason="a",
        approver="alice",
        code=code_for(recovery_db, "alice", run_id),
    )
    _wait_for_audit(recovery_db, AuditEvent.APPROVED, 1)
    _paused_again(run_id)
    assert not marker.exists()  # one approval is not enough
    answer_approval(
        run_id,
        approved=True,
        reason="again",
        approver="alice",
        code=code_for(recovery_db, "alice", run_id),
    )
    _wait_for_audit(recovery_db, AuditEvent.APPROVAL_REFUSED, 1)
    _paused_again(run_id)
    assert not marker.exists()  # nor is the same operator twice
    answer_approval(
        run_id, approved=True, reason="b", approver="bob", code=code_for(recovery_db, "bob", run_id)
    )
    thread.join(timeout=60)
    assert box["result"].startswith("succeeded"), box
    assert marker.exists()
    people = [(r.event, r.actor) for r in _audit(recovery_db) if r.actor != "vigil"]
    assert people == [
        (AuditEvent.APPROVED, "alice"),
        (AuditEvent.APPROVAL_REFUSED, "alice"),
        (AuditEvent.APPROVED, "bob"),
    ]
    first = next(r for r in _audit(recovery_db) if r.event == AuditEvent.APPROVED)
    assert "1 of 2" in first.detail


def test_cli_approvals_need_an_operator_identity_and_two_users_for_a_dangerous_procedure(
    prefect_harness, write_config, recovery_db, tmp_path, no_identity
):
    marker = tmp_path / "marker"
    viewer = f"    - {{name: vic, role: viewer, password_hash: '{_HASH}'}}\n"
    _config(write_config, marker, dangerous=True, users=operators_yaml("alice", "bob") + viewer)
    thread, box = start_in_thread(procedure="gated", target="cli-d")
    run_id = wait_until_paused("cli-d")

    def approve(token: str | None, *extra: str):  # type: ignore[no-untyped-def]
        args = ["recovery", "approve", str(run_id), "-r", "go", *extra]
        env = {"VIGIL_API_TOKEN": token} if token else None
        return CliRunner().invoke(app, args, env=env)

    nobody = approve(None)
    assert nobody.exit_code == 1 and "needs to know who you are" in nobody.stderr
    posing = approve(cli_token("cli-bob", "bob"), "--approver", "alice")  # the token is bob
    assert posing.exit_code == 2 and "--approver goes with --code" in posing.stderr
    admin = approve(None, "--as-admin")
    assert admin.exit_code == 1 and "--as-admin cannot approve or reject" in admin.stderr
    vic = approve(cli_token("cli-vic", "vic", "viewer"))
    assert vic.exit_code == 1
    assert "token cli-vic (vic) is a viewer; this needs operator or above" in vic.stderr
    assert [r for r in _audit(recovery_db) if r.actor != "vigil"] == []  # nothing was answered

    assert approve(cli_token("cli-alice", "alice")).exit_code == 0
    _wait_for_audit(recovery_db, AuditEvent.APPROVED, 1)
    _paused_again(run_id)
    assert approve(cli_token("cli-alice-2", "alice")).exit_code == 0  # another token, same user
    _wait_for_audit(recovery_db, AuditEvent.APPROVAL_REFUSED, 1)
    _paused_again(run_id)
    assert not marker.exists()
    assert approve(cli_token("cli-bob-2", "bob")).exit_code == 0
    thread.join(timeout=60)
    assert box["result"].startswith("succeeded"), box
    assert marker.exists()
    people = [(r.event, r.actor, r.path) for r in _audit(recovery_db) if r.actor != "vigil"]
    assert people == [
        (AuditEvent.APPROVED, "alice", "cli"),
        (AuditEvent.APPROVAL_REFUSED, "alice", ""),
        (AuditEvent.APPROVED, "bob", "cli"),
    ]


def test_the_approver_is_a_choice_even_with_one_operator():
    from tasks.recovery.approval import approval_form

    for names in ({"dana"}, {"dana", "eric"}):
        schema = approval_form(frozenset(names)).model_json_schema()["properties"]["approver"]
        assert schema["enum"] == sorted(names) and "const" not in schema


def test_an_answer_whose_stored_copy_cannot_be_replaced_still_counts_and_says_so(
    prefect_harness, caplog
):
    """Prefect refuses the replacement (no such run input): a warning, no exception."""
    from prefect import flow
    from prefect.input.run_input import RunInputMetadata

    from tasks.recovery.approval import Approval, forget_code

    answer = Approval(approver="alice", code="123456", approved=True)
    missing = RunInputMetadata(key="paused-x-response", receiver=UUID(int=7))
    answer._metadata = missing

    @flow
    def reads_an_answer() -> str:
        forget_code(answer)
        return answer.code

    with caplog.at_level("WARNING"):
        assert reads_an_answer() == "123456"  # the answer itself is untouched
    assert "the code of the answer paused-x-response stays in Prefect's run inputs" in caplog.text
