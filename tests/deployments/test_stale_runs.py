"""Which runs a dead process left behind, and what happens to them (the pure decisions)."""

import os
import socket
from uuid import UUID, uuid4

import psutil

from deployments.stale_runs import (
    DeploymentView,
    RunView,
    left_by_dead_process,
    left_by_runner,
    process_tag,
    replaced_deployments,
    slot_corrections,
)
from deployments.stale_runs_api import this_process_tags

CHECKS = DeploymentView(uuid4(), "every-window", True, True, "deployment:checks", active_slots=1)
RECOVER = DeploymentView(uuid4(), "recover", is_served=True, is_scheduled=False)
POOLED = DeploymentView(uuid4(), "collect", is_served=False, is_scheduled=True)
DEPLOYMENTS = {d.id: d for d in (CHECKS, RECOVER, POOLED)}


def run(deployment: DeploymentView | None, state: str, name: str = "", **kw) -> RunView:  # type: ignore[no-untyped-def]
    state_name = name or state.title()
    return RunView(
        uuid4(), f"{state_name}-run", state, state_name, deployment and deployment.id, **kw
    )


def test_a_dead_runner_leaves_its_active_and_held_paused_runs_of_served_deployments():
    runs = [
        running := run(CHECKS, "RUNNING"),
        pending := run(CHECKS, "PENDING"),
        cancelling := run(CHECKS, "CANCELLING"),
        paused := run(RECOVER, "PAUSED", "Paused"),
        run(RECOVER, "PAUSED", "Suspended"),  # resumable without its process
        run(CHECKS, "SCHEDULED", "AwaitingConcurrencySlot"),  # waits for a slot, holds none
        run(POOLED, "RUNNING"),  # a work-pool worker elsewhere may be running it
        run(None, "RUNNING"),  # not a deployment run: not the runner's
    ]
    stale = left_by_runner(runs, DEPLOYMENTS)
    assert [s.run for s in stale] == [running, pending, cancelling, paused]
    assert stale[0].reason == "left Running by a `vigil serve` that is gone"
    assert "awaited approval" in stale[3].reason


def test_a_scheduled_deployment_that_lost_runs_gets_one_run_now_unless_one_is_due():
    stale = left_by_runner(
        [run(CHECKS, "RUNNING"), run(CHECKS, "PENDING"), run(RECOVER, "RUNNING")], DEPLOYMENTS
    )
    assert replaced_deployments(stale, DEPLOYMENTS) == [CHECKS]
    assert replaced_deployments(stale, DEPLOYMENTS, has_due_run=[CHECKS.id]) == []
    only_paused = left_by_runner([run(RECOVER, "PAUSED", "Paused")], DEPLOYMENTS)
    assert replaced_deployments(only_paused, DEPLOYMENTS) == []


def test_slots_held_beyond_the_live_runs_are_reset():
    assert slot_corrections([CHECKS, RECOVER, POOLED], {}) == {"deployment:checks": 0}
    assert slot_corrections([CHECKS], {CHECKS.id: 1}) == {}
    pooled = DeploymentView(uuid4(), "x", False, True, "deployment:x", active_slots=3)
    assert slot_corrections([pooled], {}) == {}  # its workers own those slots


def test_a_run_is_stale_when_its_tagged_process_on_this_host_is_gone_or_was_replaced():
    tags = frozenset({"vigil-process", process_tag("vm", 42, 100.0)})
    active = run(None, "RUNNING", tags=tags)
    done = run(None, "COMPLETED", tags=tags)
    untagged = run(None, "RUNNING")
    runs = [active, done, untagged]
    [gone] = left_by_dead_process(runs, host="vm", started_by_pid={})
    assert gone.run == active and gone.reason == "its process (pid 42 on vm) is gone"
    assert left_by_dead_process(runs, host="vm", started_by_pid={42: 100.0}) == []
    [reused] = left_by_dead_process(runs, host="vm", started_by_pid={42: 250.0})
    assert reused.run == active
    assert left_by_dead_process(runs, host="other-host", started_by_pid={}) == []


def test_this_process_tags_name_a_live_process():
    tags = frozenset(this_process_tags())
    me = RunView(UUID(int=1), "me", "RUNNING", "Running", tags=tags)
    started = psutil.Process().create_time()
    host = socket.gethostname()
    assert left_by_dead_process([me], host=host, started_by_pid={os.getpid(): started}) == []
    assert left_by_dead_process([me], host=host, started_by_pid={}) != []
