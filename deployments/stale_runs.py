"""Runs a dead process left behind: which they are (pure) and how they are ended (Prefect API).

A `vigil serve` that is killed, or stopped by `vigil down`, leaves its runs Running on the
server, and they keep their deployment's concurrency slot (``concurrency_limit=1``): new runs
would wait in AwaitingConcurrencySlot forever. Before `vigil up` serves deployments again,
no runner of ours is alive, so every run of a served deployment still Pending, Running or
Cancelling (or Paused for an approval its process was holding) was left by the previous life.
They are marked Crashed, which releases their slots; a slot that stays taken anyway is reset;
a crashed run of a scheduled deployment gets a replacement run now instead of waiting for the
next window.

A `vigil collect run` tags its run with its host, pid and process start time, so the next one
can tell a run whose process is gone from one that still runs elsewhere.
"""

import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import httpx
import psutil

ACTIVE_STATES = frozenset({"PENDING", "RUNNING", "CANCELLING"})
PROCESS_TAG = "vigil-process"  # every run tagged with its process carries this tag too
_PROCESS_PREFIX = f"{PROCESS_TAG}:"


@dataclass(frozen=True)
class RunView:
    """What the cleanup needs of a flow run."""

    id: UUID
    name: str
    state_type: str  # StateType value: RUNNING, PAUSED, …
    state_name: str  # Paused (held by its process) or Suspended (resumable without it)
    deployment_id: UUID | None = None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DeploymentView:
    """What the cleanup needs of a deployment."""

    id: UUID
    name: str
    is_served: bool  # by a `vigil serve` runner, not by work-pool workers
    is_scheduled: bool
    limit_name: str | None = None  # its concurrency limit, when it has one
    active_slots: int = 0


@dataclass(frozen=True)
class StaleRun:
    """A run to mark Crashed, and why."""

    run: RunView
    reason: str


def left_by_runner(
    runs: Iterable[RunView], deployments: Mapping[UUID, DeploymentView]
) -> list[StaleRun]:
    """Runs of served deployments that only a runner which is gone could finish.

    Call it while no runner serves: then nobody can be executing them.
    """
    stale = []
    for run in runs:
        deployment = deployments.get(run.deployment_id) if run.deployment_id else None
        if deployment is None or not deployment.is_served:
            continue
        if run.state_type in ACTIVE_STATES:
            stale.append(StaleRun(run, f"left {run.state_name} by a `vigil serve` that is gone"))
        elif run.state_type == "PAUSED" and run.state_name == "Paused":
            reason = "its process died while it awaited approval; resuming it would run nothing"
            stale.append(StaleRun(run, reason))
    return stale


def replaced_deployments(
    stale: Iterable[StaleRun],
    deployments: Mapping[UUID, DeploymentView],
    *,
    has_due_run: Iterable[UUID] = (),
) -> list[DeploymentView]:
    """Scheduled deployments that lost a run: each gets one run now, not at its next window.

    One whose next run is already due (``has_due_run``: Vigil was down past it) needs none.
    On-demand deployments (recovery) are not re-run: a recovery must not act twice unasked.
    """
    ids = {s.run.deployment_id for s in stale if s.run.state_type in ACTIVE_STATES}
    ids -= set(has_due_run)
    return [d for d in deployments.values() if d.id in ids and d.is_scheduled]


def slot_corrections(
    deployments: Iterable[DeploymentView], active_runs: Mapping[UUID, int]
) -> dict[str, int]:
    """Concurrency limits of served deployments holding more slots than they have live runs."""
    return {
        d.limit_name: active_runs.get(d.id, 0)
        for d in deployments
        if d.is_served and d.limit_name and d.active_slots > active_runs.get(d.id, 0)
    }


def process_tag(host: str, pid: int, started: float) -> str:
    """The tag naming the process that executes a run."""
    return f"{_PROCESS_PREFIX}{host}:{pid}:{started:.2f}"


def left_by_dead_process(
    runs: Iterable[RunView], *, host: str, started_by_pid: Mapping[int, float]
) -> list[StaleRun]:
    """Active runs tagged with a process of ``host`` that is gone.

    ``started_by_pid`` gives the start time of each live process of this host; a pid that
    lives but started at another time was reused by another program.
    """
    stale = []
    for run in runs:
        owner = _owner(run.tags)
        if run.state_type not in ACTIVE_STATES or owner is None or owner[0] != host:
            continue
        _, pid, started = owner
        live_start = started_by_pid.get(pid)
        if live_start is None or abs(live_start - started) > 0.01:
            stale.append(StaleRun(run, f"its process (pid {pid} on {host}) is gone"))
    return stale


def _owner(tags: Iterable[str]) -> tuple[str, int, float] | None:
    for tag in tags:
        if tag.startswith(_PROCESS_PREFIX):
            host, pid, started = tag[len(_PROCESS_PREFIX) :].rsplit(":", 2)
            return host, int(pid), float(started)
    return None


# --- I/O: the Prefect API and this host's processes ------------------------------------


def this_process_tags() -> list[str]:
    """Tags for a run executed in this process (see `crash_runs_of_dead_processes`)."""
    started = psutil.Process(os.getpid()).create_time()
    return [PROCESS_TAG, process_tag(socket.gethostname(), os.getpid(), started)]


def release_runs_left_by_runner(
    api_url: str, say: Callable[[str], None], *, ready_timeout_seconds: float = 90.0
) -> None:
    """End the runs a dead `vigil serve` left, free their slots, re-run their windows.

    Call it before a runner serves the deployments; it waits for the API to answer.
    """
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    _wait_healthy(f"{api_url}/health", ready_timeout_seconds)
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        deployments = _served_deployments(client)
        runs = _runs(client, deployment_ids=list(deployments))
        stale = left_by_runner(runs, deployments)
        _crash(client, stale, say)
        due = _runs(client, deployment_ids=list(deployments), due=True)
        has_due_run = {r.deployment_id for r in due if r.deployment_id is not None}
        for deployment in replaced_deployments(stale, deployments, has_due_run=has_due_run):
            client.create_flow_run_from_deployment(deployment.id, tags=["replaces-crashed"])
            say(f"scheduled a run of {deployment.name} now to replace its crashed run")
        _correct_slots(client, say)


def crash_runs_of_dead_processes(say: Callable[[str], None]) -> None:
    """Mark Crashed the active runs whose tagged process on this host is gone."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        runs = _runs(client, tag=PROCESS_TAG)
        pids = {owner[1] for run in runs if (owner := _owner(run.tags))}
        _crash(client, left_by_dead_process(runs, **_host_processes(pids)), say)


def _wait_healthy(url: str, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout_seconds:g}s")
        time.sleep(0.5)


def _host_processes(pids: Iterable[int]) -> dict:
    started_by_pid = {}
    for pid in pids:
        try:
            started_by_pid[pid] = psutil.Process(pid).create_time()
        except psutil.Error:  # gone (or not ours to see: then it is not a Vigil process)
            continue
    return {"host": socket.gethostname(), "started_by_pid": started_by_pid}


def _crash(client, stale: list[StaleRun], say: Callable[[str], None]) -> None:  # type: ignore[no-untyped-def]
    from prefect.states import Crashed

    for item in stale:
        # force: the orchestration rules would refuse a Crashed from Paused; the
        # minimal policy still releases the run's deployment concurrency slot.
        client.set_flow_run_state(item.run.id, Crashed(message=item.reason), force=True)
        say(f"marked run {item.run.name} Crashed: {item.reason}")


def _correct_slots(client, say: Callable[[str], None]) -> None:  # type: ignore[no-untyped-def]
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    deployments = _served_deployments(client)
    active: dict[UUID, int] = {}
    for run in _runs(client, deployment_ids=list(deployments)):
        if run.state_type in ACTIVE_STATES and run.deployment_id:
            active[run.deployment_id] = active.get(run.deployment_id, 0) + 1
    for name, slots in slot_corrections(deployments.values(), active).items():
        client.update_global_concurrency_limit(
            name, GlobalConcurrencyLimitUpdate(active_slots=slots)
        )
        say(f"reset the taken slots of concurrency limit {name} to {slots}")


def _served_deployments(client) -> dict[UUID, DeploymentView]:  # type: ignore[no-untyped-def]
    from prefect.client.schemas.sorting import DeploymentSort

    found, offset = {}, 0
    while page := client.read_deployments(limit=200, offset=offset, sort=DeploymentSort.NAME_ASC):
        for d in page:
            limit = d.global_concurrency_limit
            found[d.id] = DeploymentView(
                id=d.id,
                name=d.name,
                is_served=d.work_pool_name is None,
                is_scheduled=any(s.active for s in d.schedules),
                limit_name=limit.name if limit else None,
                active_slots=limit.active_slots if limit else 0,
            )
        offset += len(page)
    return {i: d for i, d in found.items() if d.is_served}


def _runs(client, *, deployment_ids=None, tag=None, due=False) -> list[RunView]:  # type: ignore[no-untyped-def]
    """Runs that may be stale (active or paused); with ``due``, scheduled runs due by now."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    if deployment_ids == []:
        return []
    types = [StateType(t) for t in (("SCHEDULED",) if due else (*ACTIVE_STATES, "PAUSED"))]
    run_filter = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=types)),
        tags=FlowRunFilterTags(all_=[tag]) if tag else None,
        expected_start_time=FlowRunFilterExpectedStartTime(before_=datetime.now(UTC))
        if due
        else None,
    )
    deployment_filter = (
        DeploymentFilter(id=DeploymentFilterId(any_=deployment_ids)) if deployment_ids else None
    )
    views, offset = [], 0
    while page := client.read_flow_runs(
        flow_run_filter=run_filter,
        deployment_filter=deployment_filter,
        sort=FlowRunSort.ID_DESC,
        limit=200,
        offset=offset,
    ):
        views += [
            RunView(
                id=r.id,
                name=r.name,
                state_type=r.state.type.value,
                state_name=r.state.name,
                deployment_id=r.deployment_id,
                tags=frozenset(r.tags),
            )
            for r in page
            if r.state is not None
        ]
        offset += len(page)
    return views
