"""The schedule of the run_checks flow: one run per window, back to back."""

from datetime import timedelta

from prefect.deployments.runner import RunnerDeployment

from flows.checks import run_checks

WINDOW = timedelta(minutes=5)


def checks_deployment(
    window: timedelta = WINDOW, *, config_path: str | None = None, db_url: str | None = None
) -> RunnerDeployment:
    """Return the run_checks deployment: every ``window``, each run covering one window."""
    parameters = {"window_seconds": window.total_seconds(), "config_path": config_path}
    return run_checks.to_deployment(  # type: ignore[return-value]  # sync call: not a coroutine
        name="every-window",
        interval=window,
        parameters={**parameters, "database_url": db_url},
        concurrency_limit=1,  # two overlapping windows would run every check twice
        tags=["checks"],
    )
