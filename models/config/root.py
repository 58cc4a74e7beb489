"""The top level of vigil.yaml."""

from typing import Literal

from pydantic import Field, model_validator

from models.config.alerting import (
    Alerting,
    Channel,
    EscalationPolicy,
    InhibitRule,
    Route,
    Rule,
    alerting_problem,
)
from models.config.analytics import AnalyticsConfig
from models.config.base import Labels, LocatedValueError, StrictModel, first_repeat
from models.config.checks import CheckList, HealthConfig
from models.config.collectors import Collectors
from models.config.dashboard import DashboardConfig
from models.config.recovery import Procedure, recovery_problem
from models.config.remediation import MaintenanceWindow, remediation_problem
from models.config.reports import ReportSchedule, report_problem
from models.config.self_watch import SelfWatch
from models.config.slo import Slo, slo_problem
from models.config.targets import Target


class VigilConfig(StrictModel):
    """Everything Vigil watches and how it reacts; each section's schema lives in its module."""

    version: Literal[1] = 1
    labels: Labels = Field(default_factory=dict, description="Labels added to every series.")
    targets: list[Target] = Field(default_factory=list)
    collectors: Collectors = Field(default_factory=Collectors)
    checks: CheckList = Field(default_factory=list)
    health: HealthConfig = Field(default_factory=HealthConfig)
    rules: list[Rule] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list, description="Which alerts go where.")
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)
    escalation_policies: list[EscalationPolicy] = Field(default_factory=list)
    alerting: Alerting = Field(default_factory=Alerting)
    procedures: list[Procedure] = Field(default_factory=list)
    maintenance_windows: list[MaintenanceWindow] = Field(
        default_factory=list, description="Quiet alerts and skip recovery on a schedule."
    )
    slos: list[Slo] = Field(
        default_factory=list, description="Service level objectives and their burn-rate alerts."
    )
    report: ReportSchedule | None = Field(None, description="The scheduled report.")
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    self_watch: SelfWatch = Field(default_factory=SelfWatch)

    @model_validator(mode="after")
    def _targets_are_unique_and_known(self) -> "VigilConfig":
        repeat = first_repeat(t.name for t in self.targets)
        if repeat:
            index, name = repeat
            raise LocatedValueError(("targets", index, "name"), f"target {name!r} is defined twice")
        names = {t.name for t in self.targets}
        for index, target in enumerate(self.targets):
            for needed in target.depends_on:
                if needed not in names:
                    raise LocatedValueError(
                        ("targets", index, "depends_on"),
                        f"depends on unknown target {needed!r}; known: {', '.join(sorted(names))}",
                    )
        return self

    @model_validator(mode="after")
    def _alerting_names_are_known(self) -> "VigilConfig":
        problem = alerting_problem(self)
        if problem:
            raise LocatedValueError(*problem)
        return self

    @model_validator(mode="after")
    def _recovery_names_are_known(self) -> "VigilConfig":
        problem = recovery_problem(self)
        if problem:
            raise LocatedValueError(*problem)
        return self

    @model_validator(mode="after")
    def _remediation_is_complete(self) -> "VigilConfig":
        problem = remediation_problem(self)
        if problem:
            raise LocatedValueError(*problem)
        return self

    @model_validator(mode="after")
    def _slos_are_known(self) -> "VigilConfig":
        problem = slo_problem(self) or report_problem(self)
        if problem:
            raise LocatedValueError(*problem)
        return self

    @model_validator(mode="after")
    def _heartbeat_channel_is_known(self) -> "VigilConfig":
        beat = self.self_watch.heartbeat
        known = [c.name for c in self.channels]
        if beat is not None and beat.channel not in known:
            raise LocatedValueError(
                ("self_watch", "heartbeat", "channel"),
                f"unknown channel {beat.channel!r}; known: {', '.join(known) or 'none'}",
            )
        return self
