"""Every Vigil deployment with its schedule, in one place, chosen from vigil.yaml.

No deployment carries the config path or the store's URL: each run reads those of the
process that runs it (``VIGIL_CONFIG_PATH``, ``VIGIL_DATABASE_URL``), so neither a secret
nor a choice of them is left to whoever can reach the Prefect API.
"""

from prefect.deployments.runner import RunnerDeployment
from prefect.utilities.callables import ParameterSchema
from pydantic import ConfigDict

from deployments.alerting import alert_sweep_deployment
from deployments.analytics import analytics_deployments
from deployments.checks import checks_deployment
from deployments.collect import collection_deployments
from deployments.recovery import recovery_deployment
from deployments.report import report_deployment
from deployments.self_watch import self_watch_deployment
from deployments.slo import slo_deployment
from models.config.root import VigilConfig
from tasks.selfwatch.rules import has_rules


class _ClosedSchema(ParameterSchema):
    """A flow's parameter schema that may say ``additionalProperties: false``."""

    model_config = ConfigDict(extra="allow")


def vigil_deployments(config: VigilConfig) -> list[RunnerDeployment]:
    """Return the deployments `vigil serve` runs: collection, maintenance, checks, alert
    sweep, SLO evaluation, report, forecast and retrain (scheduled) and recovery (on
    demand: the UI, the CLI and firing alerts)."""
    deployments = collection_deployments(config)
    if config.checks:
        deployments.append(checks_deployment())
    if has_rules(config.rules, config.self_watch) or config.slos:
        deployments.append(alert_sweep_deployment())
    if has_rules(config.rules, config.self_watch):
        deployments.append(self_watch_deployment())
    if config.slos:
        deployments.append(slo_deployment())
    if config.report is not None:
        deployments.append(report_deployment(config.report))
    if config.procedures:
        deployments.append(recovery_deployment())
    if has_analytics_work(config):
        deployments += analytics_deployments()
    return [refusing_unknown_parameters(d) for d in deployments]


def refusing_unknown_parameters(deployment: RunnerDeployment) -> RunnerDeployment:
    """Make the Prefect API answer 409 to a run asking for a parameter the flow lacks.

    Prefect's schema allows extra properties, so such a run would be created and only
    fail when its flow is called; closed, it is never created.
    """
    schema = deployment._parameter_openapi_schema
    given = {name: getattr(schema, name) for name in schema.model_fields_set}
    deployment._parameter_openapi_schema = _ClosedSchema(**given, additionalProperties=False)
    deployment.enforce_parameter_schema = True
    return deployment


def has_analytics_work(config: VigilConfig) -> bool:
    """True when there are series to forecast and score, or watched processes to check for leaks."""
    processes = config.collectors.processes
    is_watching = processes.enabled and bool(processes.watch)
    return bool(config.analytics.series) or (config.analytics.leak_detection and is_watching)
