"""The schedule of the run_checks flow: one run per window, back to back."""

from datetime import timedelta

from prefect.deployments.runner import RunnerDeployment

from flows.checks import run_checks

WINDOW = timedelta(minutes=5)


def checks_deployment(window: timedelta = WINDOW) -> RunnerDeployment:
    """Return the run_checks deployment: every ``window``, each run covering one window."""
    return run_checks.to_deployment(  # type: ignore[return-value]  # sync call: not a coroutine
        name="every-window",
        interval=window,
        parameters={"window_seconds": window.total_seconds()},
        concurrency_limit=1,  # two overlapping windows would run every check twice
        tags=["checks"],
    )
