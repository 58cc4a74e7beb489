"""The schedule of the report: vigil.yaml's ``report.cron`` (default Monday 07:00 UTC)."""

from typing import cast

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.report import send_scheduled_report
from models.config.reports import ReportSchedule


def report_deployment(schedule: ReportSchedule) -> RunnerDeployment:
    """Return the report deployment on the configured cron schedule."""
    deployment = send_scheduled_report.to_deployment(
        "report",
        schedule=Cron(schedule.cron, timezone=schedule.timezone),
        concurrency_limit=1,
    )
    return cast(RunnerDeployment, deployment)
