"""The `recover` deployment: run from the Prefect UI (Run → Custom run) or by alert triggers."""

from prefect.deployments.runner import RunnerDeployment

from flows.recover import recover


def recovery_deployment() -> RunnerDeployment:
    """Return the on-demand deployment ``recover/recover`` for ``prefect.serve``.

    No schedule: runs come from operators (the UI form is generated from the flow's
    parameters) and from ``tasks.recovery.trigger.launch_deployment``. Per-target
    exclusion is the flow's own concurrency limit, not the deployment's. The config and
    the store are not parameters: each run reads those of the process that runs it.
    """
    return recover.to_deployment(  # type: ignore[return-value]  # sync call: not a coroutine
        name="recover",
        description="Run a recovery procedure from vigil.yaml on one target.",
        tags=["recovery", "ops"],
    )
