"""Serve the deployments and start the window flows at once, not one interval later.

A scheduled interval's first run comes one interval after the deployment is registered
(5 minutes for collect, checks and the alert sweep). So when `vigil serve` starts, it stores
one host sample itself and starts one run of each window flow now, lasting until that
flow's first scheduled run: data and check results arrive within seconds, then the
schedule takes over.
"""

import asyncio
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from prefect.deployments.runner import RunnerDeployment

from deployments.alerting import SWEEP_EVERY
from models.config.root import VigilConfig

QUERY_SECONDS = 5.0  # the runner asks for due runs this often at most (Prefect's default: 10 s)
MIN_WINDOW_SECONDS = 20.0  # a first window shorter than this still runs one full round


def first_window_parameters(flow_name: str, window_seconds: float) -> dict[str, Any] | None:
    """The parameters of a flow's first, immediate run; None for flows left to their schedule.

    >>> first_window_parameters("run_checks", 42.0)
    {'window_seconds': 42.0, 'force_first_round': True}
    >>> first_window_parameters("maintenance", 42.0) is None
    True
    """
    if flow_name == "collect":
        return {"window_seconds": window_seconds}
    if flow_name == "run_checks":
        return {"window_seconds": window_seconds, "force_first_round": True}
    if flow_name == "alert-sweep":
        return {"window_seconds": window_seconds, "every_seconds": SWEEP_EVERY.total_seconds()}
    return None


def seconds_until_first_run(deployment: RunnerDeployment, now: datetime) -> float | None:
    """Seconds from ``now`` to the deployment's first scheduled run (None: no interval)."""
    for entry in deployment.schedules or []:
        schedule = entry.schedule
        interval, anchor = (
            getattr(schedule, "interval", None),
            getattr(schedule, "anchor_date", None),
        )
        if interval is None or anchor is None:
            continue
        step = interval.total_seconds()
        elapsed = (now - anchor).total_seconds()
        return anchor.timestamp() + step * (math.floor(elapsed / step) + 1) - now.timestamp()
    return None


def store_first_host_sample(config: VigilConfig, database_url: str, now: datetime) -> int:
    """Store one host sample from this (already warm) process; return how many were stored.

    The first collect run starts only after the runner's first poll, seconds later on a busy
    machine; this sample makes the dashboard show data as soon as `vigil up` prints its URLs.
    """
    from models.db import make_engine
    from models.store import MetricStore
    from tasks.collect.host import HostCollector
    from tasks.collect.tick import host_target
    from tasks.store.batch import store_batch

    if not config.collectors.host.enabled:
        return 0
    host = HostCollector({**config.labels, "target": host_target(config)})
    engine = make_engine(database_url)
    try:
        stored = store_batch(
            MetricStore(engine), host.collect(now.timestamp()), source="collect", now=now
        )
    finally:
        engine.dispose()
    return stored.accepted


def serve_now(deployments: Sequence[RunnerDeployment], say: Callable[[str], None]) -> None:
    """Register ``deployments``, start the window flows' first runs, then serve until stopped."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import TerminationSignal
    from prefect.settings import get_current_settings

    from deployments.in_process import InProcessRunner

    poll = min(get_current_settings().runner.poll_frequency, QUERY_SECONDS)
    runner = InProcessRunner(query_seconds=poll)  # the light flows run in its threads
    ids = [cast(UUID, runner.add_deployment(deployment)) for deployment in deployments]
    now = datetime.now(UTC)
    with get_client(sync_client=True) as client:
        for deployment, deployment_id in zip(deployments, ids, strict=True):
            _start_first_run(client, deployment, deployment_id, now, say)
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        say("stopped serving")


def _start_first_run(
    client: Any, deployment: RunnerDeployment, deployment_id: UUID, now: datetime, say: Callable
) -> None:
    until = seconds_until_first_run(deployment, now)
    if until is None:
        return
    parameters = first_window_parameters(deployment.flow_name or "", max(until, MIN_WINDOW_SECONDS))
    if parameters is None:
        return
    client.create_flow_run_from_deployment(
        deployment_id, parameters=parameters, tags=["first-window"]
    )
    say(f"started {deployment.flow_name} now for {until:.0f}s, until its schedule takes over")
