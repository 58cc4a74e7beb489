"""Run the light periodic flows in threads of `vigil serve`, not in one new interpreter each.

Why: Prefect's runner starts every run of a served deployment as a new Python process
(``python -m prefect.engine``) that imports Prefect, SQLAlchemy and Vigil again (~175 MB).
The three window flows (collect, checks, alert sweep) run back to back, so three such
processes were always alive, and the self-watch started one every minute (CPU-seconds of
imports each time). Here those runs are still deployment flow runs of the same Runner (schedules,
concurrency limits, states, logs and run history are Prefect's), but `run_flow` runs them
in a thread of the serving process, which has imported all of it once.

What is given up: a hard kill of one run. A thread cannot be killed, so the run's handle has
no pid and the runner's kill (cancel from the UI or API, shutdown) leaves it alone: a
cancelled run is Cancelling at once, but its flow works on to the end of its window (up to
5 minutes), then the server refuses it Completed and it is ended Cancelled. A flow that
hangs holds its thread and its deployment's concurrency slot until `vigil serve` restarts.
Stopping `vigil serve` leaves its runs Running; the next `vigil up` marks them Crashed. Heavy
or dangerous flows (recovery, forecast, retrain, report) keep their own processes: memory
returns to the OS when they end, and their commands and waits stay out of this process.
"""

import threading
from collections.abc import Callable, Mapping
from typing import Any, cast
from uuid import UUID

import anyio
import anyio.abc
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, State
from prefect.context import serialize_context
from prefect.deployments.runner import RunnerDeployment
from prefect.flow_engine import run_flow
from prefect.flows import Flow
from prefect.logging import get_logger
from prefect.runner import Runner
from prefect.runner._flow_run_executor import ProcessStarter
from prefect.runner._process_manager import ProcessHandle
from prefect.states import Cancelled

from flows.alert_sweep import alert_sweep
from flows.checks import run_checks
from flows.collect import collect
from flows.maintenance import maintenance
from flows.self_watch import self_watch

# Flows light enough to share `vigil serve`: database writes, HTTP, no frames or models.
IN_THREAD_FLOWS: dict[str, Flow[..., Any]] = {
    light.name: light for light in (collect, run_checks, alert_sweep, self_watch, maintenance)
}

log = get_logger("vigil.in_process")


class FlowThread(threading.Thread):
    """One flow run in a daemon thread, shaped like a process for the runner's ProcessHandle.

    ``pid`` is None, so nothing the runner does to a run's process can signal `vigil serve`;
    ``returncode`` is 0 once the engine has given the run a final state (Completed, Failed,
    ...), 1 if the engine itself raised (the runner then marks the run Crashed).
    """

    pid = None

    def __init__(self, flow: Flow[..., Any], flow_run: FlowRun, context: dict[str, Any]) -> None:
        # Daemon: stopping `vigil serve` must not wait for a window to end; the runs it leaves
        # Running are marked Crashed by the stale-run cleanup of the next `vigil up`.
        super().__init__(name=f"flow-run {flow_run.name}", daemon=True)
        self.flow, self.flow_run, self.context = flow, flow_run, context
        self.returncode: int | None = None

    def run(self) -> None:
        try:
            # Parameters None: run_flow reads the run's own, with the flow's defaults, as the
            # runner's subprocess does. "state": a failed flow is a Failed run, not an error.
            state = run_flow(
                self.flow, flow_run=self.flow_run, return_type="state", context=self.context
            )
            if isinstance(state, State) and state.is_cancelling():
                _end_cancelled(self.flow_run)
            self.returncode = 0
        except BaseException:
            log.exception("the engine failed on flow run %s", self.flow_run.id)
            self.returncode = 1


def _end_cancelled(flow_run: FlowRun) -> None:
    """End a run cancelled while its flow ran on: the server refused it Completed."""
    with get_client(sync_client=True) as client:
        message = "Cancelled: the flow ran in a thread of `vigil serve` and ended its work first."
        client.set_flow_run_state(flow_run.id, Cancelled(message=message))


class InThreadStarter:
    """A Prefect ``ProcessStarter`` that runs ``flow`` in a FlowThread of this process."""

    def __init__(self, flow: Flow[..., Any]) -> None:
        self.flow = flow

    async def start(
        self,
        flow_run: FlowRun,
        task_status: anyio.abc.TaskStatus[ProcessHandle] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        thread = FlowThread(self.flow, flow_run, serialize_context())
        thread.start()
        task_status.started(ProcessHandle(cast(Any, thread)))  # reads only pid and returncode
        await anyio.to_thread.run_sync(thread.join, abandon_on_cancel=True)


class InProcessRunner(Runner):
    """A Runner that starts runs of the ``in_thread`` flows (by name) in threads, others as usual.

    Prefect starts a run of a deployment added with ``add_deployment`` as ``python -m
    prefect.engine``; a deployment of one of ``in_thread`` flows is remembered with its flow
    object here, and its runs get an InThreadStarter instead.
    """

    def __init__(
        self, *, in_thread: Mapping[str, Flow[..., Any]] = IN_THREAD_FLOWS, **options: Any
    ) -> None:
        super().__init__(**options)
        self.in_thread = in_thread
        self.threaded: dict[UUID, Flow[..., Any]] = {}

    async def aadd_deployment(self, deployment: RunnerDeployment) -> UUID:
        deployment_id = await super().aadd_deployment(deployment)  # add_deployment comes here
        flow = self.in_thread.get(deployment.flow_name or "")
        if flow is not None:
            self.threaded[deployment_id] = flow
        return deployment_id

    async def __aenter__(self) -> "InProcessRunner":
        await super().__aenter__()
        # The poller asks this resolver for every due run; Runner builds it in __aenter__.
        poller = self._scheduled_run_poller
        default: Callable[[FlowRun], ProcessStarter] = poller._resolve_starter
        poller._resolve_starter = lambda flow_run: self._starter(flow_run, default)
        return self

    def _starter(
        self, flow_run: FlowRun, default: Callable[[FlowRun], ProcessStarter]
    ) -> ProcessStarter:
        flow = self.threaded.get(flow_run.deployment_id) if flow_run.deployment_id else None
        return default(flow_run) if flow is None else InThreadStarter(flow)
