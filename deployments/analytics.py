"""Schedules of the analytics flows: forecasts and scores often, refits hourly when due."""

from datetime import timedelta
from typing import cast

from prefect.deployments.runner import RunnerDeployment

from flows.forecast import forecast
from flows.retrain import retrain
from models.config.root import VigilConfig

FORECAST_EVERY = timedelta(minutes=15)
RETRAIN_CHECK_EVERY = timedelta(hours=1)  # refits only what is due or drifting


def forecast_crossings(config: VigilConfig) -> list[tuple[str, float]]:
    """Return (selector, threshold) of every forecast alert rule, for the forecast flow."""
    return [
        (rule.series, rule.threshold)
        for rule in config.rules
        if rule.kind == "forecast" and rule.series and rule.threshold is not None
    ]


def analytics_deployments(config: VigilConfig, *, db_url: str) -> list[RunnerDeployment]:
    """Return the forecast and retrain deployments (each run picks Dask when configured)."""
    analytics = config.analytics.model_dump(mode="json")
    crossings = [list(pair) for pair in forecast_crossings(config)]
    return [
        cast(
            RunnerDeployment,
            forecast.to_deployment(
                "forecast",
                interval=FORECAST_EVERY,
                parameters={"db_url": db_url, "config": analytics, "crossings": crossings},
                concurrency_limit=1,
            ),
        ),
        cast(
            RunnerDeployment,
            retrain.to_deployment(
                "retrain",
                interval=RETRAIN_CHECK_EVERY,
                parameters={"db_url": db_url, "config": analytics},
                concurrency_limit=1,
                tags=["training"],
            ),
        ),
    ]
