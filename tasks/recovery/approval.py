"""Approval gates: pause the flow run for a typed form in the Prefect UI, or answer from a shell."""

import getpass
from dataclasses import dataclass
from uuid import UUID

from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, resume_flow_run
from prefect.input import RunInput

from models.config.recovery import TimeoutDecision


class Approval(RunInput):
    """The form an operator fills in; submitting it untouched means reject."""

    approved: bool = False
    reason: str = ""
    approver: str = ""


@dataclass(frozen=True)
class Decision:
    """What came back from an approval gate."""

    is_approved: bool
    reason: str
    approver: str


def ask_approval(
    description: str, *, timeout_s: float, on_timeout: TimeoutDecision, key: str
) -> Decision:
    """Pause this flow run until someone answers the form (or the timeout decides)."""
    try:
        answer = pause_flow_run(
            wait_for_input=Approval.with_initial_data(
                description=description, approved=False, reason="", approver=""
            ),
            timeout=max(1, round(timeout_s)),
            poll_interval=1,  # the default 10 s would be the resume latency
            key=key,
        )
    except FlowPauseTimeout:
        is_approved = on_timeout == TimeoutDecision.APPROVE
        reason = f"nobody answered within {timeout_s:g}s; the timeout decides: {on_timeout}"
        return Decision(is_approved, reason, "timeout")
    return Decision(answer.approved, answer.reason, answer.approver or "unknown")


def answer_approval(
    flow_run_id: UUID | str, *, approved: bool, reason: str, approver: str | None = None
) -> None:
    """Resume a paused recovery run with an answer, as the UI form would."""
    run_input = {"approved": approved, "reason": reason, "approver": approver or getpass.getuser()}
    resume_flow_run(UUID(str(flow_run_id)), run_input=run_input)
