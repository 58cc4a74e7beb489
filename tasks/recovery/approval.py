"""Approval gates: pause the flow run for a form in the Prefect UI, or answer from a shell.

The form's approver is a choice among the configured operators, and the answer must carry a
one-time code that the dashboard showed to that operator for this run (see
tasks/recovery/approval_codes.py). An answer that does not count (not an operator, wrong or
spent code, the same operator twice on a dangerous procedure) is audited and the run pauses
again for the rest of its approval window.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from prefect import get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, resume_flow_run
from prefect.input import RunInput
from pydantic import Field, create_model
from sqlalchemy import Engine

from models.config.recovery import TimeoutDecision
from models.recovery import AuditEvent
from tasks.core.recovery.approvers import Answer, Outcome, outcome, refusal
from tasks.recovery.approval_codes import redeem_code

CODE_REMOVED = "(removed: the store keeps only its digest)"
_BAD_CODE = "the code is wrong, expired, already used, or not this operator's for this run"


class Approval(RunInput):
    """The answer to a paused recovery; submitting the form untouched counts for nothing."""

    approver: str = Field(description="Who answers: one of the configured operators.")
    code: str = Field("", description="The one-time code the dashboard shows you for this run.")
    approved: bool = False
    reason: str = ""


def approval_form(operators: frozenset[str]) -> type[Approval]:
    """Return the form whose approver is a choice among ``operators`` (free text if none)."""
    if not operators:
        return Approval
    names = sorted(operators)
    choice = Literal[tuple(names)]  # type: ignore[valid-type]

    def as_choice(schema: dict[str, Any]) -> None:
        # One name would be a "const", which the Prefect UI shows as an empty locked field.
        schema.pop("const", None)
        schema["enum"] = names

    field = Field(
        description="Who answers: one of the configured operators.", json_schema_extra=as_choice
    )
    return create_model("Approval", __base__=Approval, approver=(choice, field))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Gate:
    """Who may answer one paused run, and where refusals are audited."""

    engine: Engine
    flow_run_id: str
    operators: Callable[[], frozenset[str]]  # re-read per answer: a demoted user stops counting
    needed: int  # different operators who must approve: 2 for a dangerous procedure
    audit: Callable[[AuditEvent, str, str, str], None]  # (event, detail, actor, path)


@dataclass(frozen=True)
class Decision:
    """What came back from an approval gate."""

    is_approved: bool
    reason: str
    approver: str
    path: str = ""  # ApprovalPath of the deciding answer ("" for the timeout)


def ask_approval(
    description: str, *, timeout_s: float, on_timeout: TimeoutDecision, key: str, gate: Gate
) -> Decision:
    """Pause this flow run until valid answers decide (or the timeout does)."""
    deadline = time.monotonic() + timeout_s
    approved_by: tuple[str, ...] = ()
    attempt = 0
    while attempt == 0 or deadline - time.monotonic() >= 1:  # the first pause always happens
        text = description + _instructions(gate, approved_by)
        left = max(1.0, deadline - time.monotonic())
        answer = _pause(text, gate, key=f"{key}-{attempt}" if attempt else key, left=left)
        attempt += 1
        if answer is None:
            break
        why, path = _check(answer, gate, approved_by)
        if why:
            gate.audit(AuditEvent.APPROVAL_REFUSED, f"{key}: {why}", answer.approver, path)
            continue
        result = outcome(answer, approved_by, needed=gate.needed)
        if result != Outcome.NEEDS_ANOTHER:
            return Decision(result == Outcome.APPROVED, answer.reason, answer.approver, path)
        approved_by += (answer.approver,)
        count = f"{len(approved_by)} of {gate.needed}"
        detail = f"{key}: {answer.reason} ({count}; waiting for another operator)"
        gate.audit(AuditEvent.APPROVED, detail, answer.approver, path)
    is_approved = on_timeout == TimeoutDecision.APPROVE
    reason = f"nobody answered within {timeout_s:g}s; the timeout decides: {on_timeout}"
    return Decision(is_approved, reason, "timeout")


def _instructions(gate: Gate, approved_by: tuple[str, ...]) -> str:
    """Tell the person at the form how to prove who they are."""
    text = (
        "\n\n---\nChoose yourself as **approver** and enter the one-time **code** that the "
        "dashboard's Recoveries page shows you for this run (valid minutes, once)."
    )
    if gate.needed > 1:
        so_far = ", ".join(approved_by) or "nobody yet"
        text += f" This procedure is dangerous: {gate.needed} different operators must approve"
        text += f" (approved so far: {so_far})."
    return text


def _pause(description: str, gate: Gate, *, key: str, left: float) -> Answer | None:
    """Wait for one submitted form; None when the time ran out."""
    form = approval_form(gate.operators())
    try:
        got = pause_flow_run(
            wait_for_input=form.with_initial_data(description=description, approved=False),
            timeout=max(1, round(left)),
            poll_interval=1,  # the default 10 s would be the resume latency
            key=key,  # each pause needs its own key: Prefect refuses a key that fired
        )
    except FlowPauseTimeout:
        return None
    forget_code(got)
    return Answer(got.approved, got.reason, str(got.approver), got.code)


def forget_code(got: Approval) -> None:
    """Replace the answer Prefect keeps (``flow_run_input``) by a copy without its code.

    Spent or wrong, a code has no business in Prefect's database, whose API shows run inputs
    to every holder of its credential; the store keeps its digest and the audit the answer.
    """
    from prefect.client.orchestration import get_client

    run_id, key = got.metadata.receiver, got.metadata.key
    kept = got.model_dump(mode="json") | {"code": CODE_REMOVED}
    try:
        with get_client(sync_client=True) as client:
            client.delete_flow_run_input(run_id, key)
            client.create_flow_run_input(run_id, key, json.dumps(kept))
    except Exception as exc:  # the answer counts all the same; say what is left behind
        message = "the code of the answer %s stays in Prefect's run inputs: %s"
        get_run_logger().warning(message, key, exc)


def _check(answer: Answer, gate: Gate, approved_by: tuple[str, ...]) -> tuple[str, str]:
    """Return (why the answer does not count or "", the path its code was issued for)."""
    why = refusal(answer, gate.operators(), approved_by)
    if why:
        return why, ""
    now = datetime.now(UTC)
    path = redeem_code(gate.engine, answer.approver, gate.flow_run_id, answer.code, now=now)
    return ("", str(path)) if path else (_BAD_CODE, "")


def answer_approval(
    flow_run_id: UUID | str, *, approved: bool, reason: str, approver: str, code: str
) -> None:
    """Resume a paused recovery run with an answer, as the UI form would.

    Raises:
        RuntimeError: Prefect refused the answer (the run is not paused, or the approver is
            not one of the form's choices).
    """
    answer = {"approved": approved, "reason": reason, "approver": approver, "code": code}
    resume_flow_run(UUID(str(flow_run_id)), run_input=answer)
