"""Ending the runs a dead process left, through the Prefect API (decisions: stale_runs)."""

import os
import socket
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from uuid import UUID

import httpx
import psutil

from deployments.stale_runs import (
    ACTIVE_STATES,
    PROCESS_TAG,
    DeploymentView,
    RunView,
    StaleRun,
    left_by_dead_process,
    left_by_runner,
    process_owner,
    process_tag,
    replaced_deployments,
    slot_corrections,
)


def this_process_tags() -> list[str]:
    """Tags for a run executed in this process (see `crash_runs_of_dead_processes`)."""
    started = psutil.Process(os.getpid()).create_time()
    return [PROCESS_TAG, process_tag(socket.gethostname(), os.getpid(), started)]


def release_runs_left_by_runner(
    api_url: str,
    say: Callable[[str], None],
    *,
    auth_string: str | None = None,
    ready_timeout_seconds: float = 90.0,
) -> None:
    """End the runs a dead `vigil serve` left, free their slots, re-run their windows.

    Call it before a runner serves the deployments; it waits for the API to answer.
    ``auth_string`` is the server's basic-auth credential, if it has one.
    """
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    _wait_healthy(f"{api_url}/health", ready_timeout_seconds)
    overrides = {PREFECT_API_URL: api_url, PREFECT_API_AUTH_STRING: auth_string}
    with temporary_settings(overrides), get_client(sync_client=True) as client:  # type: ignore[arg-type]
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
        pids = {owner[1] for run in runs if (owner := process_owner(run.tags))}
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
        for run_id, target, is_freed in _end_recovery_runs(client, str(item.run.id), item.reason):
            say(f"recovery run {run_id} of {item.run.name} marked failed: its worker died")
            if is_freed:
                say(f"released the recovery lock of target {target}")


def _end_recovery_runs(client, flow_run_id: str, reason: str) -> list[tuple[int, str, bool]]:  # type: ignore[no-untyped-def]
    """The Vigil store's side of a crashed run: its recovery run ends FAILED (orphans.py).

    The lease of its target's lock (a Prefect concurrency slot) is then freed, once: only
    the finder whose compare-and-set ended the run gets to it. Returns the ended runs' ids,
    targets and whether a lease was still there to free.
    """
    from uuid import UUID

    from models.db import make_engine
    from models.settings import get_settings
    from tasks.recovery.lock import release_dead_lease
    from tasks.recovery.orphans import end_orphaned_runs
    from tasks.recovery.store import run_by_id

    engine = make_engine(get_settings().database_url)
    try:
        ended = end_orphaned_runs(engine, [flow_run_id], reason, now=datetime.now(UTC))
        found = []
        for run_id in ended:
            run = run_by_id(engine, run_id)
            if run is None:
                continue
            lease = run.lock_lease_id  # None: it died before it held the lock
            is_freed = lease is not None and release_dead_lease(client, UUID(lease))
            found.append((run_id, run.target, is_freed))
        return found
    finally:
        engine.dispose()


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


if __name__ == "__main__":
    credential = os.environ.get("PREFECT_API_AUTH_STRING")
    release_runs_left_by_runner(
        sys.argv[1], lambda line: print(line, flush=True), auth_string=credential
    )
