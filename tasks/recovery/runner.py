"""Carry out a recovery run: each gate, approval and step performed and audited.

What comes next is decided in tasks/core/recovery/run.py; this module does the I/O. Steps run
as Prefect tasks inside one ``transaction()``: when a step (or the verification) fails for
good, the completed steps' rollbacks run in reverse order. Every decision is audited in the
store and summarised in a markdown artifact on the flow run.
"""

from dataclasses import replace
from datetime import UTC, datetime

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import get_run_context
from prefect.transactions import transaction

from models.config import load_config
from models.config.recovery import ApprovalMode, Procedure
from models.errors import RecoveryError
from models.recovery import AuditEvent, RunState
from models.settings import get_settings
from tasks.core.recovery import run
from tasks.core.recovery.plan import Action, Group, Plan, plan_markdown
from tasks.core.recovery.report import AuditLine, report_markdown
from tasks.recovery.approval import Gate, ask_approval
from tasks.recovery.checks import preconditions_hold, verify
from tasks.recovery.steps import RunBook, engine_for, run_action, run_group
from tasks.recovery.store import (
    admit,
    audit_trail,
    finish,
    record_dry_run,
    run_by_id,
    set_state,
)


class Rejected(RecoveryError):
    """A step's approval was refused; the transaction rolls back what ran before it."""


def served_refusal(
    procedures: list[Procedure], url: str, procedure: str, target: str, run_id: int | None
) -> str:
    """Say why a run was not asked for by this Vigil, auditing the refusal ("" when it was)."""
    stored = run_by_id(engine_for(url), run_id) if run_id is not None else None
    facts = None if stored is None else (stored.procedure, stored.target, stored.state)
    why = run.not_served(procedures, procedure, target, run_id, facts)
    if why:
        get_run_logger().warning("recovery %s on %s refused: %s", procedure, target, why)
        RunBook(url, procedure[:255], target[:255], None).write(AuditEvent.SKIPPED, why)
    return why


def refuse(proc: Procedure, book: RunBook, why: str, *, state: RunState = RunState.SKIPPED) -> str:
    """Record why a run did not act (and end its admitted run, if any)."""
    get_run_logger().warning("recovery %s on %s %s: %s", proc.name, book.target, state, why)
    book.write(AuditEvent(state.value), why)
    ending = run.Ending(state, why)
    if book.run_id is not None:
        _finish(proc, book, ending)
    return str(ending)


def rehearse(the_plan: Plan, url: str, trigger: str) -> str:
    """Record a dry run: every action it would take, audited and published; nothing runs."""
    name, target = the_plan.procedure.name, the_plan.target
    dry = record_dry_run(engine_for(url), name, target, trigger=trigger)
    book = RunBook(url, name, target, dry.id)
    for line in run.dry_run_lines(the_plan):
        book.write(AuditEvent.DRY_RUN, line)
    plan_text = plan_markdown(the_plan)
    _publish(the_plan, book, RunState.DRY_RUN)
    get_run_logger().info("dry run, nothing changed:\n%s", plan_text)
    return f"{RunState.DRY_RUN}: nothing changed\n{plan_text}"


def admitted(
    book: RunBook,
    proc: Procedure,
    *,
    trigger: str,
    labels: dict[str, str],
    now: datetime,
    requested_by: str = "vigil",
) -> tuple[RunBook | None, str]:
    """Return the book of the admitted run (one already admitted, or admitted now) or why not;
    the trigger is audited as ``requested_by``'s."""
    if book.run_id is not None:
        return book, ""
    engine = engine_for(book.database_url)
    run_row, why = admit(
        engine, proc, book.target, trigger=trigger, labels=labels, now=now, actor=requested_by
    )
    if run_row is None:
        return None, f"skipped: {why}"
    return replace(book, run_id=run_row.id), ""


def carry_out(the_plan: Plan, book: RunBook) -> str:
    """Take an admitted run through its gates and steps; end, audit and publish it."""
    assert book.run_id is not None
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    set_state(
        engine_for(book.database_url),
        book.run_id,
        RunState.RUNNING,
        flow_run_id=flow_run_id,
        lock_lease_id=book.lock_lease_id,
    )
    ending = _through_gates(the_plan, book) or _act(the_plan, book)
    _finish(the_plan.procedure, book, ending)
    _publish(the_plan, book, ending.state)
    get_run_logger().info(
        "recovery %s on %s: %s: %s", book.procedure, book.target, ending.state, ending.message
    )
    return str(ending)


def _through_gates(the_plan: Plan, book: RunBook) -> run.Ending | None:
    """Pass each gate in the order ``run.after_gate`` gives; an ending means: stop, unchanged."""
    proc = the_plan.procedure
    needs_approval = proc.approval == ApprovalMode.REQUIRED
    step: run.Gate | str | run.Ending = run.first_gate()
    while isinstance(step, run.Gate):
        if step == run.Gate.APPROVAL:
            passed, why = _approved(proc, book, plan_markdown(the_plan), "run"), ""
        else:
            passed, why = preconditions_hold(the_plan, book)
        step = run.after_gate(step, passed, why, needs_approval=needs_approval)
    return step if isinstance(step, run.Ending) else None


def _act(the_plan: Plan, book: RunBook) -> run.Ending:
    """Run every step and the verification in one transaction."""
    verifies = the_plan.procedure.verify is not None
    try:
        with transaction():
            for index, item in enumerate(the_plan.items):
                _approve_step(the_plan, item, book, index)
                if isinstance(item, Group):
                    run_group(item, book)
                else:
                    run_action(item, book)
            if the_plan.verification is not None:
                verify(the_plan, book)
    except Rejected as exc:
        return run.acted(exc, was_rejected=True, verifies=verifies)
    except Exception as exc:
        book.write(AuditEvent.FAILED, f"{type(exc).__name__}: {exc}"[:4000])
        return run.acted(exc, was_rejected=False, verifies=verifies)
    book.write(AuditEvent.SUCCEEDED, run.done_message(verifies))
    return run.acted(None, was_rejected=False, verifies=verifies)


def _approve_step(the_plan: Plan, item: Action | Group, book: RunBook, index: int) -> None:
    if not run.step_needs_approval(item):
        return
    text = run.step_approval_text(plan_markdown(the_plan), item)
    if not _approved(the_plan.procedure, book, text, f"step-{index}"):
        raise Rejected(f"approval for step {item.name} refused")


def _approved(proc: Procedure, book: RunBook, description: str, key: str) -> bool:
    assert book.run_id is not None
    engine = engine_for(book.database_url)
    set_state(engine, book.run_id, RunState.AWAITING_APPROVAL)
    book.write(AuditEvent.APPROVAL_REQUESTED, f"{key}: waiting up to {proc.approval_timeout}")
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    def audit(event: AuditEvent, detail: str, actor: str, path: str) -> None:
        book.write(event, detail, actor=actor, path=path)

    gate = Gate(engine, flow_run_id, _operators, 2 if proc.dangerous else 1, audit)
    decision = ask_approval(
        description,
        timeout_s=proc.approval_timeout.total_seconds(),
        on_timeout=proc.on_approval_timeout,
        key=key,
        gate=gate,
    )
    event = AuditEvent.APPROVED if decision.is_approved else AuditEvent.REJECTED
    book.write(event, f"{key}: {decision.reason}", actor=decision.approver, path=decision.path)
    set_state(engine, book.run_id, RunState.RUNNING)
    return decision.is_approved


def _operators() -> frozenset[str]:
    """The operators of the served vigil.yaml now (re-read: a demoted user stops counting)."""
    return load_config(get_settings().config_path).dashboard.operators


def _finish(proc: Procedure, book: RunBook, ending: run.Ending) -> None:
    """End the stored run at the clock's time (read once, here: the run may have waited)."""
    assert book.run_id is not None
    engine = engine_for(book.database_url)
    finish(engine, proc, book.run_id, ending.state, ending.message, now=datetime.now(UTC))


def _publish(the_plan: Plan, book: RunBook, state: RunState) -> None:
    assert book.run_id is not None
    rows = audit_trail(engine_for(book.database_url), book.run_id)
    lines = [AuditLine(r.at, r.event, r.actor, r.detail) for r in rows]
    title = f"Recovery {book.procedure} on {book.target} (run {book.run_id})"
    plan_text = plan_markdown(the_plan)
    markdown = report_markdown(title, state, plan_text, lines, is_dry_run=state == RunState.DRY_RUN)
    create_markdown_artifact(
        markdown=markdown, key=run.artifact_key(book.procedure), description=f"{title}: {state}"
    )
