"""Schedules of the collection flows: back-to-back collect windows, hourly maintenance."""

from datetime import timedelta

from prefect.deployments.runner import RunnerDeployment

from flows.collect import collect
from flows.maintenance import maintenance
from models.config.root import VigilConfig

MAINTENANCE_EVERY = timedelta(hours=1)  # well inside the flow's 3 h rollup lookback


def collection_deployments(
    config: VigilConfig, *, config_path: str | None = None, db_url: str | None = None
) -> list[RunnerDeployment]:
    """Return the collect deployment (one run per ``run_window``) and the maintenance one."""
    where = {"config_path": config_path, "db_url": db_url}
    return [
        collect.to_deployment("collect", interval=config.collectors.run_window, parameters=where),
        maintenance.to_deployment("maintenance", interval=MAINTENANCE_EVERY, parameters=where),
    ]
