"""The schedule of SLO evaluation: one run per 5 minutes, judging every minute inside."""

from datetime import timedelta
from typing import cast

from prefect.deployments.runner import RunnerDeployment

from flows.slo import evaluate_slos

WINDOW = timedelta(minutes=5)
EVERY = timedelta(minutes=1)


def slo_deployment() -> RunnerDeployment:
    """Return the slo deployment: every 5 minutes, evaluating every minute inside."""
    parameters = {"window_seconds": WINDOW.total_seconds(), "every_seconds": EVERY.total_seconds()}
    deployment = evaluate_slos.to_deployment(
        "slo", interval=WINDOW, parameters=parameters, concurrency_limit=1
    )
    return cast(RunnerDeployment, deployment)
