"""The ``analytics:`` section: forecasting horizon, retraining and anomaly detection."""

from datetime import timedelta
from typing import Literal, get_args

from pydantic import Field

from models.config.base import Duration, StrictModel

ModelName = Literal[
    "last_value",
    "drift",
    "seasonal_profile",
    "linear_trend",
    "seasonal_trend",
    "ets",
    "arima",
    "prophet",
    "median_ensemble",
]
DetectorName = Literal[
    "contextual",
    "knn_cad",
    "blend",
    "ensemble",
    "robust_z",
    "seasonal_esd",
    "cusum",
    "isolation_forest",
    "lof",
    "one_class_svm",
    "memory_leak",
]


class AnalyticsConfig(StrictModel):
    """What is forecast and scored, and when models are refitted."""

    series: list[str] = Field(
        default_factory=list,
        description="Selectors of the series to forecast and score, e.g. 'disk_used_ratio'.",
    )
    horizon: Duration = Field(timedelta(days=1), description="How far ahead to forecast.")
    history: Duration = Field(timedelta(days=7), description="Training window of each model.")
    retrain_every: Duration = Field(timedelta(days=1), description="Scheduled refit interval.")
    drift_threshold: float = Field(
        1.5,
        gt=1.0,
        description="Refit early when recent MASE exceeds backtest MASE this many times.",
    )
    models: list[ModelName] = Field(
        default_factory=lambda: [m for m in get_args(ModelName) if m != "prophet"],
        description="Candidates besides seasonal naive; the backtest picks one per series "
        "(median_ensemble: the median of the best backtested ones).",
    )
    backtest_origins: int = Field(  # the number bench/forecast.py validates (selection.py)
        6, ge=1, le=10, description="Rolling origins per backtest."
    )
    detector: DetectorName = Field(
        "contextual", description="Detector behind vigil_anomaly_score (registry.DEFAULT)."
    )
    leak_detection: bool = Field(
        True,
        description="Score every watched process's RSS (process_resident_memory_bytes) with "
        "memory_leak, as vigil_anomaly_score{detector='memory_leak'}.",
    )
    dask_address: str | None = Field(
        None, description="Dask scheduler (tcp://host:8786) for many series; default: threads."
    )
