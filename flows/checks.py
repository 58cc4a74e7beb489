"""The run_checks flow: one run covers a window of check rounds, so run history stays readable."""

from prefect import flow, get_run_logger, task

from models.config import load_config
from models.settings import get_settings
from tasks.alerting.subscribe import alerting_on_batches
from tasks.checks.session import run_check_window
from tasks.store.flow_timing import timed_run


@task(name="run-check-window")
def check_window(config_path: str, database_url: str, window_seconds: float, force: bool) -> dict:
    """Run the checks for one window; results are stored and published as they finish."""
    summary = run_check_window(config_path, database_url, window_s=window_seconds, force=force)
    return summary.as_dict()


@flow(name="run_checks")
@timed_run("run_checks")
def run_checks(window_seconds: float = 300.0, force_first_round: bool = False) -> dict:
    """Run every check on its interval for ``window_seconds`` (schedule it every window).

    The config and the store (already migrated) are the serving process's
    (``VIGIL_CONFIG_PATH``, ``VIGIL_DATABASE_URL``), never a caller's.

    Args:
        window_seconds: how long this run keeps starting due checks; 0 runs one round.
        force_first_round: run every check at the start, due or not.
    """
    settings = get_settings()
    path, url = str(settings.config_path), settings.database_url
    with alerting_on_batches(load_config(path), url):
        summary = check_window(path, url, window_seconds, force_first_round)
    get_run_logger().info(
        "checks: %s in %d batches; system health %s (%s)",
        summary["results"],
        summary["batches"],
        summary["system_score"],
        summary["system_level"],
    )
    return summary
