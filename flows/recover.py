"""The generic recovery flow: gate → lock → admit → preconditions → approval → steps → verify.

Steps run as Prefect tasks inside one ``transaction()``: when a step (or the verification)
fails for good, the completed steps' rollbacks run in reverse order. Every decision is
audited in the store and summarised in a markdown artifact on the flow run.
"""

from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import get_run_context
from prefect.transactions import transaction

from models.config import load_config
from models.config.recovery import ApprovalMode, Procedure, find_procedure
from models.config.root import VigilConfig
from models.errors import RecoveryError
from models.recovery import AuditEvent, RunState
from models.settings import get_settings
from tasks.core.recovery.plan import (
    Action,
    Group,
    Plan,
    describe,
    make_context,
    plan,
    plan_markdown,
)
from tasks.core.recovery.report import AuditLine, report_markdown
from tasks.recovery.approval import ask_approval
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
from tasks.recovery.target_queue import wait_for_target


class Rejected(RecoveryError):
    """A step's approval was refused; the transaction rolls back what ran before it."""


@flow(name="recover", flow_run_name="{procedure} on {target}")
def recover(
    procedure: str,
    target: str,
    labels: dict[str, str] | None = None,
    dry_run: bool = False,
    trigger: str = "manual",
    run_id: int | None = None,
) -> str:
    """Run one recovery procedure on one target; return its outcome in a line.

    The config and the store are the serving process's (``VIGIL_CONFIG_PATH``,
    ``VIGIL_DATABASE_URL``), never the caller's: whoever starts a run through the Prefect
    API chooses among the served procedures only. A procedure the config does not name, or
    a ``run_id`` that is not an admitted run of this procedure on this target, is refused
    (audited; nothing runs).
    """
    settings = get_settings()
    config, url = load_config(settings.config_path), settings.database_url
    why = _not_served(config, url, procedure, target, run_id)
    if why:
        get_run_logger().warning("recovery %s on %s refused: %s", procedure, target, why)
        RunBook(url, procedure[:255], target[:255], None).write(AuditEvent.SKIPPED, why)
        return f"refused: {why}"
    proc = find_procedure(config.procedures, procedure)
    address = next((t.address for t in config.targets if t.name == target), None)
    try:
        if proc.targets and target not in proc.targets:
            raise RecoveryError(f"{proc.name} may not act on {target}; allowed: {proc.targets}")
        the_plan = plan(
            proc, target, make_context(proc.name, target, labels or {}, address=address)
        )
    except RecoveryError as exc:  # refused before anything ran (e.g. a hostile label value)
        return _refuse(proc, target, url, run_id, str(exc))
    if dry_run:
        run = record_dry_run(engine_for(url), proc.name, target, trigger=trigger)
        return _dry_run(the_plan, RunBook(url, proc.name, target, run.id))
    book = RunBook(url, proc.name, target, run_id)
    with wait_for_target(book, timeout=proc.limits.queue_timeout) as (ended, why):
        if ended is not None:
            return _refuse(proc, target, url, run_id, why, state=ended)
        if run_id is None:
            admitted, why = admit(
                engine_for(url), proc, target, trigger=trigger, labels=labels or {}, now=_now()
            )
            if admitted is None:
                return f"skipped: {why}"
            run_id = admitted.id
        assert run_id is not None
        return _run(the_plan, RunBook(url, proc.name, target, run_id))


def _not_served(
    config: VigilConfig, url: str, procedure: str, target: str, run_id: int | None
) -> str:
    """Say why a run was not asked for by this Vigil ("" when it was)."""
    try:
        find_procedure(config.procedures, procedure)
    except KeyError as exc:
        return str(exc).strip("'\"")
    if run_id is None:
        return ""
    run = run_by_id(engine_for(url), run_id)
    if run is None or (run.procedure, run.target, run.state) != (
        procedure,
        target,
        RunState.ADMITTED,
    ):
        return f"recovery run {run_id} is not an admitted run of {procedure} on {target}"
    return ""


def _run(the_plan: Plan, book: RunBook) -> str:
    assert book.run_id is not None
    proc, target = the_plan.procedure, the_plan.target
    engine = engine_for(book.database_url)
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    set_state(engine, book.run_id, RunState.RUNNING, flow_run_id=flow_run_id)
    state, message = _gate(the_plan, book)
    if state is None:
        state, message = _act(the_plan, book)
    finish(engine, proc, book.run_id, state, message, now=_now())
    _publish(the_plan, book, state)
    get_run_logger().info("recovery %s on %s: %s: %s", proc.name, target, state, message)
    return f"{state}: {message}"


def _gate(the_plan: Plan, book: RunBook) -> tuple[RunState | None, str]:
    """Check preconditions and the procedure's approval; a state here means: stop, unchanged."""
    proc = the_plan.procedure
    held, why = preconditions_hold(the_plan, book)
    if not held:
        return RunState.SKIPPED, why
    if proc.approval != ApprovalMode.REQUIRED:
        return None, ""
    if not _approved(proc, book, plan_markdown(the_plan), "run"):
        return RunState.REJECTED, "approval refused; nothing was changed"
    held, why = preconditions_hold(the_plan, book)  # the world may have moved while we waited
    if not held:
        return RunState.SKIPPED, why
    return None, ""


def _act(the_plan: Plan, book: RunBook) -> tuple[RunState, str]:
    """Run every step and the verification in one transaction."""
    proc = the_plan.procedure
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
        return RunState.REJECTED, f"{exc}; completed steps were rolled back"
    except Exception as exc:
        book.write(AuditEvent.FAILED, f"{type(exc).__name__}: {exc}"[:4000])
        return RunState.FAILED, f"{exc}; completed steps were rolled back"
    book.write(AuditEvent.SUCCEEDED, "all steps done" + (" and verified" if proc.verify else ""))
    return RunState.SUCCEEDED, "all steps done" + (" and verified" if proc.verify else "")


def _approve_step(the_plan: Plan, item: Action | Group, book: RunBook, index: int) -> None:
    actions = item.actions if isinstance(item, Group) else [item]
    if not any(a.needs_approval for a in actions):
        return
    text = f"{plan_markdown(the_plan)}\n\n**Next step needs approval:** `{item.name}`"
    if not _approved(the_plan.procedure, book, text, f"step-{index}"):
        raise Rejected(f"approval for step {item.name} refused")


def _approved(proc: Procedure, book: RunBook, description: str, key: str) -> bool:
    assert book.run_id is not None
    engine = engine_for(book.database_url)
    set_state(engine, book.run_id, RunState.AWAITING_APPROVAL)
    book.write(AuditEvent.APPROVAL_REQUESTED, f"{key}: waiting up to {proc.approval_timeout}")
    decision = ask_approval(
        description,
        timeout_s=proc.approval_timeout.total_seconds(),
        on_timeout=proc.on_approval_timeout,
        key=key,
    )
    event = AuditEvent.APPROVED if decision.is_approved else AuditEvent.REJECTED
    book.write(event, f"{key}: {decision.reason}", actor=decision.approver)
    set_state(engine, book.run_id, RunState.RUNNING)
    return decision.is_approved


def _dry_run(the_plan: Plan, book: RunBook) -> str:
    for item in the_plan.items:
        for action in item.actions if isinstance(item, Group) else [item]:
            book.write(AuditEvent.DRY_RUN, describe(action)[:4000])
    plan_text = plan_markdown(the_plan)
    _publish(the_plan, book, RunState.DRY_RUN)
    get_run_logger().info("dry run, nothing changed:\n%s", plan_text)
    return f"{RunState.DRY_RUN}: nothing changed\n{plan_text}"


def _refuse(
    proc: Procedure,
    target: str,
    url: str,
    run_id: int | None,
    why: str,
    *,
    state: RunState = RunState.SKIPPED,
) -> str:
    """Record why a run did not act (and end its admitted run, if any)."""
    get_run_logger().warning("recovery %s on %s %s: %s", proc.name, target, state, why)
    RunBook(url, proc.name, target, run_id).write(AuditEvent(state.value), why)
    if run_id is not None:
        finish(engine_for(url), proc, run_id, state, why, now=_now())
    return f"{state}: {why}"


def _publish(the_plan: Plan, book: RunBook, state: RunState) -> None:
    assert book.run_id is not None
    proc, target = the_plan.procedure, the_plan.target
    rows = audit_trail(engine_for(book.database_url), book.run_id)
    lines = [AuditLine(r.at, r.event, r.actor, r.detail) for r in rows]
    title = f"Recovery {proc.name} on {target} (run {book.run_id})"
    plan_text = plan_markdown(the_plan)
    markdown = report_markdown(title, state, plan_text, lines, is_dry_run=state == RunState.DRY_RUN)
    create_markdown_artifact(
        markdown=markdown, key=_artifact_key(proc.name), description=f"{title}: {state}"
    )


def _artifact_key(procedure: str) -> str:
    # Artifact keys allow lowercase letters, digits and dashes only.
    return "recovery-" + "".join(c if c.isalnum() else "-" for c in procedure.lower())


def _now() -> datetime:
    return datetime.now(UTC)
