"""The schedule of the run_checks flow: one run per window, back to back."""

from datetime import timedelta

from prefect.deployments.runner import RunnerDeployment

from flows.checks import run_checks

WINDOW = timedelta(minutes=5)


def checks_deployment(window: timedelta = WINDOW) -> RunnerDeployment:
    """Return the run_checks deployment: every ``window``, each run covering one window.

    Serve it with the other deployments (``prefect.serve(checks_deployment(), ...)``).
    """
    return run_checks.to_deployment(
        name="every-window",
        interval=window,
        parameters={"window_seconds": window.total_seconds()},
        concurrency_limit=1,  # two overlapping windows would run every check twice
        tags=["checks"],
    )
