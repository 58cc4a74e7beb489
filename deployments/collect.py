"""Schedules of the collection flows: back-to-back collect windows, hourly maintenance."""

from datetime import timedelta
from typing import cast

from prefect.deployments.runner import RunnerDeployment

from flows.collect import collect
from flows.maintenance import maintenance
from models.config.root import VigilConfig

MAINTENANCE_EVERY = timedelta(hours=1)  # well inside the flow's 3 h rollup lookback


def collection_deployments(config: VigilConfig) -> list[RunnerDeployment]:
    """Return the collect deployment (one run per ``run_window``) and the maintenance one."""
    # Called from synchronous code, to_deployment returns the deployment, not a coroutine.
    every = config.collectors.run_window
    return [
        cast(RunnerDeployment, collect.to_deployment("collect", interval=every)),
        cast(
            RunnerDeployment, maintenance.to_deployment("maintenance", interval=MAINTENANCE_EVERY)
        ),
    ]
