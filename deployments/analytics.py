"""Schedules of the analytics flows: forecasts and scores often, refits hourly when due."""

from datetime import timedelta
from typing import cast

from prefect.deployments.runner import RunnerDeployment

from flows.forecast import forecast
from flows.retrain import retrain

FORECAST_EVERY = timedelta(minutes=15)
RETRAIN_CHECK_EVERY = timedelta(hours=1)  # refits only what is due or drifting


def analytics_deployments() -> list[RunnerDeployment]:
    """Return the forecast and retrain deployments (each run reads ``analytics:`` itself)."""
    return [
        cast(
            RunnerDeployment,
            forecast.to_deployment("forecast", interval=FORECAST_EVERY, concurrency_limit=1),
        ),
        cast(
            RunnerDeployment,
            retrain.to_deployment(
                "retrain", interval=RETRAIN_CHECK_EVERY, concurrency_limit=1, tags=["training"]
            ),
        ),
    ]
