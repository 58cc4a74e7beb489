"""The light flows run in threads of `vigil serve` as real deployment flow runs.

A real InProcessRunner serves deployments of the session's Prefect test server from a
thread of this process; runs are created from the deployments (state Scheduled) and the
runner's poller picks them up, as `vigil serve` does.
"""

import os
import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

import psutil
import pytest
from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.deployments.runner import RunnerDeployment
from sqlalchemy import text

from deployments.in_process import IN_THREAD_FLOWS, InProcessRunner
from deployments.self_watch import self_watch_deployment
from flows.checks import run_checks
from flows.collect import collect
from models.db import make_engine
from models.migrate import upgrade
from tests.runner_thread import running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@flow(name="where-it-runs")
def where_it_runs(is_failing: bool = False, hold_seconds: float = 0.0) -> dict[str, Any]:
    """Say in the run's log which process and thread ran it; fail when asked."""
    pid, thread = os.getpid(), threading.current_thread().name
    get_run_logger().info("ran in pid %d, thread %s", pid, thread)
    time.sleep(hold_seconds)
    if is_failing:
        raise RuntimeError("failing as asked")
    return {"pid": pid, "thread": thread}


@flow(name="where-it-runs-apart")
def where_it_runs_apart() -> None:
    """The same report from a flow left out of the in-thread set."""
    get_run_logger().info("ran in pid %d, thread %s", os.getpid(), threading.current_thread().name)


IN_THREAD = {"where-it-runs": where_it_runs}


def deployment_of(the_flow: Any) -> RunnerDeployment:
    return cast(RunnerDeployment, the_flow.to_deployment(f"test-{uuid.uuid4().hex[:8]}"))


def served(
    deployments: list[RunnerDeployment], in_thread: dict[str, Any]
) -> tuple[InProcessRunner, list[UUID]]:
    """An InProcessRunner with ``deployments`` added (not started yet), and their ids."""
    runner = InProcessRunner(query_seconds=1, in_thread=in_thread)
    return runner, [cast(UUID, runner.add_deployment(d)) for d in deployments]


def start_run(deployment_id: UUID, **parameters: Any) -> UUID:
    with get_client(sync_client=True) as client:
        return client.create_flow_run_from_deployment(deployment_id, parameters=parameters).id


def wait_final(run_id: UUID, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(run_id)
            if run.state_type and run.state_type.value in TERMINAL:
                return run
            time.sleep(0.5)
    raise AssertionError(f"flow run {run_id} did not end in {timeout} s")


def log_lines(run_id: UUID, containing: str, timeout: float = 30.0) -> list[str]:
    """The run's log messages containing ``containing`` (logs reach the API in batches)."""
    flow_run_id = LogFilterFlowRunId(any_=[run_id])
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(LogFilter(flow_run_id=flow_run_id))
            found = [log.message for log in logs if containing in log.message]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


def engine_children() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if any(mark in " ".join(child.cmdline()) for mark in ("multiprocessing", "prefect.engine"))
    ]


def test_a_run_of_an_in_thread_deployment_runs_in_this_process_with_its_logs(prefect_harness):
    runner, (deployment,) = served([deployment_of(where_it_runs)], IN_THREAD)
    with running(runner):
        run_id = start_run(deployment, hold_seconds=2.0)
        time.sleep(1.5)
        spawned = engine_children()
        run = wait_final(run_id)
    assert run.state_type.value == "COMPLETED"
    assert run.deployment_id == deployment
    assert spawned == []
    (line,) = log_lines(run_id, "ran in pid")
    assert line.startswith(f"ran in pid {os.getpid()}, thread flow-run {run.name}")


def test_a_flow_left_out_still_runs_in_a_process_of_its_own(prefect_harness):
    runner, (deployment,) = served([deployment_of(where_it_runs_apart)], IN_THREAD)
    with running(runner):
        run = wait_final(start_run(deployment))
    assert run.state_type.value == "COMPLETED"
    (line,) = log_lines(run.id, "ran in pid")
    assert not line.startswith(f"ran in pid {os.getpid()},")


def test_the_self_watch_deployment_runs_in_a_thread_and_stores_vigils_own_samples(
    prefect_harness, tmp_path, serve_with
):
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    config = tmp_path / "vigil.yaml"
    config.write_text("targets:\n  - name: box\ncollectors:\n  push: {enabled: false}\n")
    serve_with(config, url)
    runner, (deployment,) = served([self_watch_deployment()], IN_THREAD_FLOWS)
    with running(runner):
        run = wait_final(start_run(deployment))
    assert run.state_type.value == "COMPLETED", run.state
    assert log_lines(run.id, "self-watch:") != []
    db = make_engine(url)
    with db.connect() as connection:
        samples = connection.execute(text("SELECT count(*) FROM sample")).scalar_one()
    db.dispose()
    assert samples > 0
    assert engine_children() == []


def test_a_failing_in_thread_run_is_failed_and_the_runner_serves_the_next(prefect_harness):
    runner, (deployment,) = served([deployment_of(where_it_runs)], IN_THREAD)
    with running(runner):
        failed = wait_final(start_run(deployment, is_failing=True))
        after = wait_final(start_run(deployment))
    assert failed.state_type.value == "FAILED"
    assert "failing as asked" in (failed.state.message or "")
    assert after.state_type.value == "COMPLETED"


def test_collect_and_checks_run_at_once_in_threads_and_both_store(
    prefect_harness, tmp_path, serve_with
):
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    listener = socket.create_server(("127.0.0.1", 0))
    config = tmp_path / "vigil.yaml"
    config.write_text(
        "targets:\n  - name: shop\n"
        "collectors:\n  host: {interval: 500ms, target: box}\n"
        "  processes: {enabled: false}\n  push: {enabled: false}\n"
        "checks:\n  - {name: shop-port, type: tcp, target: shop, host: 127.0.0.1,"
        f" port: {listener.getsockname()[1]}, interval: 1s}}\n"
    )
    serve_with(config, url)
    deployments = [deployment_of(collect), deployment_of(run_checks)]
    runner, (collecting, checking) = served(
        deployments, {"collect": collect, "run_checks": run_checks}
    )
    # Both runs wait before the runner starts, so its first poll finds both.
    runs = [start_run(collecting, window_seconds=6.0), start_run(checking, window_seconds=6.0)]
    with running(runner):
        ended = [wait_final(run_id) for run_id in runs]
    listener.close()
    assert [run.state_type.value for run in ended] == ["COMPLETED", "COMPLETED"]
    (collected, checked) = ended
    assert collected.start_time < checked.end_time and checked.start_time < collected.end_time
    db = make_engine(url)
    with db.connect() as connection:
        samples = connection.execute(text("SELECT count(*) FROM sample")).scalar_one()
        results = connection.execute(text("SELECT count(*) FROM check_result")).scalar_one()
    db.dispose()
    assert samples > 0 and results >= 3, (samples, results)
    assert engine_children() == []


def test_cancelling_an_in_thread_run_ends_it_cancelled_when_its_flow_returns(prefect_harness):
    from prefect.states import Cancelling

    runner, (deployment,) = served([deployment_of(where_it_runs)], IN_THREAD)
    with running(runner):
        run_id = start_run(deployment, hold_seconds=6.0)
        deadline = time.monotonic() + 60
        with get_client(sync_client=True) as client:
            while client.read_flow_run(run_id).state_type.value != "RUNNING":
                assert time.monotonic() < deadline, "the run never started"
                time.sleep(0.2)
            client.set_flow_run_state(run_id, Cancelling(), force=True)
        run = wait_final(run_id, timeout=timedelta(minutes=1).total_seconds())
    assert run.state_type.value == "CANCELLED", run.state
