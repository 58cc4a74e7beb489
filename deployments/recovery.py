"""The `recover` deployment: run from the Prefect UI (Run → Custom run) or by alert triggers."""

from prefect.deployments.runner import RunnerDeployment

from flows.recover import recover


def recovery_deployment(
    *, config_path: str | None = None, db_url: str | None = None
) -> RunnerDeployment:
    """Return the on-demand deployment ``recover/recover`` for ``prefect.serve``.

    No schedule: runs come from operators (the UI form is generated from the flow's
    parameters) and from ``tasks.recovery_trigger.launch_deployment``. Per-target
    exclusion is the flow's own concurrency limit, not the deployment's. The config and
    store are default parameters, so runs read the same files as the other deployments.
    """
    return recover.to_deployment(  # type: ignore[return-value]  # sync call: not a coroutine
        name="recover",
        description="Run a recovery procedure from vigil.yaml on one target.",
        parameters={"config_path": config_path, "database_url": db_url},
        tags=["recovery", "ops"],
    )
