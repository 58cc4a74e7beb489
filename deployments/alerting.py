"""The schedule of the alert sweep: one run per window, sweeping every few seconds."""

from datetime import timedelta
from typing import cast

from prefect.deployments.runner import RunnerDeployment

from flows.alert_sweep import alert_sweep

WINDOW = timedelta(minutes=5)
SWEEP_EVERY = timedelta(seconds=15)


def alert_sweep_deployment() -> RunnerDeployment:
    """Return the alert-sweep deployment: every 5 minutes, sweeping every 15 s inside."""
    parameters = {
        "window_seconds": WINDOW.total_seconds(),
        "every_seconds": SWEEP_EVERY.total_seconds(),
    }
    deployment = alert_sweep.to_deployment(
        "alert-sweep", interval=WINDOW, parameters=parameters, concurrency_limit=1
    )
    return cast(RunnerDeployment, deployment)
