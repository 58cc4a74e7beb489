"""Every Vigil deployment with its schedule, in one place, parameterised from vigil.yaml."""

from prefect.deployments.runner import RunnerDeployment

from deployments.alerting import alert_sweep_deployment
from deployments.analytics import analytics_deployments
from deployments.checks import checks_deployment
from deployments.collect import collection_deployments
from deployments.recovery import recovery_deployment
from models.config.root import VigilConfig
from models.settings import get_settings


def vigil_deployments(
    config: VigilConfig, *, config_path: str, db_url: str | None = None
) -> list[RunnerDeployment]:
    """Return the deployments `vigil serve` runs: collection, maintenance, checks, alert
    sweep, forecast and retrain (scheduled) and recovery (on demand: the UI, the CLI and
    firing alerts)."""
    deployments = collection_deployments(config, config_path=config_path, db_url=db_url)
    if config.checks:
        deployments.append(checks_deployment(config_path=config_path, db_url=db_url))
    if config.rules:
        deployments.append(alert_sweep_deployment(config_path=config_path, db_url=db_url))
    if config.procedures:
        deployments.append(recovery_deployment(config_path=config_path, db_url=db_url))
    if has_analytics_work(config):
        deployments += analytics_deployments(config, db_url=db_url or get_settings().database_url)
    return deployments


def has_analytics_work(config: VigilConfig) -> bool:
    """True when there are series to forecast and score, or watched processes to check for leaks."""
    processes = config.collectors.processes
    is_watching = processes.enabled and bool(processes.watch)
    return bool(config.analytics.series) or (config.analytics.leak_detection and is_watching)
