"""Runs a dead process left behind: which they are, and what becomes of them (pure).

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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

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
        owner = process_owner(run.tags)
        if run.state_type not in ACTIVE_STATES or owner is None or owner[0] != host:
            continue
        _, pid, started = owner
        live_start = started_by_pid.get(pid)
        if live_start is None or abs(live_start - started) > 0.01:
            stale.append(StaleRun(run, f"its process (pid {pid} on {host}) is gone"))
    return stale


def process_owner(tags: Iterable[str]) -> tuple[str, int, float] | None:
    """The (host, pid, start time) a run's tags name, if any (see `process_tag`)."""
    for tag in tags:
        if tag.startswith(_PROCESS_PREFIX):
            host, pid, started = tag[len(_PROCESS_PREFIX) :].rsplit(":", 2)
            return host, int(pid), float(started)
    return None
