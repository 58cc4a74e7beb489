"""The schedule of the self-watch: one pass a minute."""

from datetime import timedelta
from typing import cast

from prefect.deployments.runner import RunnerDeployment

from flows.self_watch import self_watch

EVERY = timedelta(minutes=1)


def self_watch_deployment() -> RunnerDeployment:
    """Return the self-watch deployment: Vigil's own samples and heartbeat every minute."""
    deployment = self_watch.to_deployment("self-watch", interval=EVERY, concurrency_limit=1)
    return cast(RunnerDeployment, deployment)
