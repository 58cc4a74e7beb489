"""The recovery run's decisions, over plain data: who may run, the gate order, how a run ends."""

import pytest

from models.config import parse_config
from models.recovery import RunState
from tasks.core.recovery.run import (
    ACT,
    Ending,
    Gate,
    acted,
    after_gate,
    artifact_key,
    dry_run_lines,
    first_gate,
    not_served,
    plan_for,
    step_needs_approval,
)

CONFIG = """
targets: [{name: web, address: 10.0.0.5}]
procedures:
  - name: restart
    targets: [web]
    steps:
      - {type: command, argv: [ctl, restart, "{target}", "{address}"]}
      - {type: command, argv: [ctl, check], approval: required}
"""


def _walk(answers: dict[Gate, tuple[bool, str]], *, needs_approval: bool) -> list:
    """Follow the gates from the first, answering each from ``answers``."""
    seen: list = [first_gate()]
    while isinstance(seen[-1], Gate):
        passed, why = answers[seen[-1]]
        seen.append(after_gate(seen[-1], passed, why, needs_approval=needs_approval))
    return seen


def test_a_run_without_approval_acts_after_its_preconditions():
    assert _walk({Gate.PRECONDITIONS: (True, "")}, needs_approval=False) == [
        Gate.PRECONDITIONS,
        ACT,
    ]


def test_an_approved_run_checks_its_preconditions_again_before_it_acts():
    answers = {g: (True, "") for g in Gate}
    assert _walk(answers, needs_approval=True) == [
        Gate.PRECONDITIONS,
        Gate.APPROVAL,
        Gate.RECHECK,
        ACT,
    ]
    answers[Gate.RECHECK] = (False, "precondition not met: expected passing, saw down")
    assert _walk(answers, needs_approval=True)[-1] == Ending(
        RunState.SKIPPED, "precondition not met: expected passing, saw down"
    )


@pytest.mark.parametrize(
    ("failing", "ending"),
    [
        (Gate.PRECONDITIONS, Ending(RunState.SKIPPED, "nope")),
        (Gate.APPROVAL, Ending(RunState.REJECTED, "approval refused; nothing was changed")),
    ],
)
def test_a_failed_gate_ends_the_run_unchanged(failing, ending):
    answers = {g: (g != failing, "nope") for g in Gate}
    assert _walk(answers, needs_approval=True)[-1] == ending


def test_how_a_run_that_acted_ends():
    assert str(acted(None, was_rejected=False, verifies=True)) == (
        "succeeded: all steps done and verified"
    )
    assert acted(None, was_rejected=False, verifies=False).message == "all steps done"
    boom = RuntimeError("step 2 exploded")
    assert acted(boom, was_rejected=False, verifies=True) == Ending(
        RunState.FAILED, "step 2 exploded; completed steps were rolled back"
    )
    assert acted(boom, was_rejected=True, verifies=True).state == RunState.REJECTED


def test_only_configured_procedures_and_admitted_runs_are_served():
    procedures = parse_config(CONFIG).procedures
    assert not_served(procedures, "restart", "web", None, None) == ""
    assert not_served(procedures, "pwn", "web", None, None) == (
        "no procedure 'pwn' in the config; known: restart"
    )
    admitted = ("restart", "web", RunState.ADMITTED)
    assert not_served(procedures, "restart", "web", 7, admitted) == ""
    refused = "recovery run 7 is not an admitted run of restart on web"
    assert not_served(procedures, "restart", "web", 7, None) == refused
    other_target = ("restart", "db", RunState.ADMITTED)
    assert not_served(procedures, "restart", "web", 7, other_target) == refused
    assert not_served(procedures, "restart", "web", 7, ("restart", "web", RunState.RUNNING)) == (
        refused
    )


def test_the_plan_fills_the_address_and_lists_each_action_for_a_dry_run():
    config = parse_config(CONFIG)
    the_plan = plan_for(config.targets, config.procedures[0], "web", {})
    assert [step_needs_approval(item) for item in the_plan.items] == [False, True]
    lines = dry_run_lines(the_plan)
    assert len(lines) == 2 and "10.0.0.5" in lines[0] and "check" in lines[1]
    assert artifact_key("Restart_Web 2") == "recovery-restart-web-2"
