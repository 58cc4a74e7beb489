"""The recovery run's decisions over plain data: who may run, what follows each gate, how it ends.

The run itself (flows/recover.py, tasks/recovery/runner.py) performs each step and asks
these functions what comes next: preconditions → approval → preconditions again → act.
"""

from dataclasses import dataclass
from enum import StrEnum

from models.config.recovery import Procedure, find_procedure
from models.config.targets import Target
from models.vocabulary.run_states import RunState
from tasks.core.recovery.plan import Action, Group, Plan, describe, make_context, plan


class Gate(StrEnum):
    """A check a run passes before it acts."""

    PRECONDITIONS = "preconditions"
    APPROVAL = "approval"
    RECHECK = "recheck"  # the preconditions again: the world may have moved while we waited


@dataclass(frozen=True)
class Ending:
    """How a run ends: its final state and the line that says why."""

    state: RunState
    message: str

    def __str__(self) -> str:
        return f"{self.state}: {self.message}"


ACT = "act"  # every gate passed: run the steps


def first_gate() -> Gate:
    """Every run starts with its preconditions."""
    return Gate.PRECONDITIONS


def after_gate(gate: Gate, passed: bool, why: str, *, needs_approval: bool) -> Gate | str | Ending:
    """What follows ``gate`` given its answer: the next gate, ``ACT``, or the run's ending."""
    if gate == Gate.APPROVAL:
        if not passed:
            return Ending(RunState.REJECTED, "approval refused; nothing was changed")
        return Gate.RECHECK
    if not passed:
        return Ending(RunState.SKIPPED, why)
    return Gate.APPROVAL if gate == Gate.PRECONDITIONS and needs_approval else ACT


def acted(failure: BaseException | None, *, was_rejected: bool, verifies: bool) -> Ending:
    """How a run that acted ends: all done, or rolled back after a refusal or a failure."""
    if failure is None:
        return Ending(RunState.SUCCEEDED, done_message(verifies))
    state = RunState.REJECTED if was_rejected else RunState.FAILED
    return Ending(state, f"{failure}; completed steps were rolled back")


def done_message(verifies: bool) -> str:
    """The line a successful run ends with."""
    return "all steps done" + (" and verified" if verifies else "")


def not_served(
    procedures: list[Procedure],
    procedure: str,
    target: str,
    run_id: int | None,
    run: tuple[str, str, RunState] | None,
) -> str:
    """Say why a run was not asked for by this Vigil ("" when it was).

    ``run`` is the stored ``(procedure, target, state)`` of ``run_id`` (None: no such run).
    """
    try:
        find_procedure(procedures, procedure)
    except KeyError as exc:
        return str(exc).strip("'\"")
    if run_id is None or run == (procedure, target, RunState.ADMITTED):
        return ""
    return f"recovery run {run_id} is not an admitted run of {procedure} on {target}"


def plan_for(
    targets: list[Target], procedure: Procedure, target: str, labels: dict[str, str]
) -> Plan:
    """Render ``procedure`` for ``target``; raises RecoveryError (e.g. a hostile label value)."""
    address = next((t.address for t in targets if t.name == target), None)
    return plan(procedure, target, make_context(procedure.name, target, labels, address=address))


def step_needs_approval(item: Action | Group) -> bool:
    """Whether any action of this plan item waits for a human before it runs."""
    return any(a.needs_approval for a in _actions(item))


def step_approval_text(plan_text: str, item: Action | Group) -> str:
    """The approval form's text for one step."""
    return f"{plan_text}\n\n**Next step needs approval:** `{item.name}`"


def dry_run_lines(the_plan: Plan) -> list[str]:
    """One audit line per action a dry run would have taken."""
    return [describe(action)[:4000] for item in the_plan.items for action in _actions(item)]


def artifact_key(procedure: str) -> str:
    """The run report's artifact key (lowercase letters, digits and dashes only)."""
    return "recovery-" + "".join(c if c.isalnum() else "-" for c in procedure.lower())


def _actions(item: Action | Group) -> list[Action]:
    return item.actions if isinstance(item, Group) else [item]
