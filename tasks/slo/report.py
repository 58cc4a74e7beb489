"""Gather a report of a span from the store: SLOs, uptime, incidents, operations, series."""

from datetime import datetime

from sqlalchemy import Engine

from models.config.root import VigilConfig
from models.store import MetricStore
from tasks.alerting.incidents import recent_incidents
from tasks.core.reports.content import Report
from tasks.slo.operations import forecast_accuracy, operations_report
from tasks.slo.read import slo_figures
from tasks.slo.series_stats import top_series
from tasks.slo.uptime import uptime_report


def build_report(config: VigilConfig, engine: Engine, since: datetime, until: datetime) -> Report:
    """Every figure of the report for ``[since, until]``; SLOs and uptime as of ``until``."""
    store = MetricStore(engine)
    end = until.timestamp()
    figures = {slo.name: slo_figures(store, slo, end, 60) for slo in config.slos}
    return Report(
        since=since.timestamp(),
        until=end,
        slos=[row for row, _ in figures.values()],
        burn_downs={name: points for name, (_, points) in figures.items()},
        uptime=uptime_report(engine, until),
        operations=operations_report(engine, since, until),
        forecast=forecast_accuracy(engine),
        top_series=top_series(engine, since, until).to_dict("records"),
        incidents=recent_incidents(engine, since, until),
    )
