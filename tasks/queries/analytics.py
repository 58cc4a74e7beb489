"""Analytics as the Models and Metrics pages read it: model versions, forecasts, anomalies."""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select
from sqlmodel import col

from models.analytics import AnomalyScore, ForecastPoint, ModelVersion
from models.metrics import Sample, Series
from models.vocabulary.labels import parse_canonical
from tasks.queries.frames import millis, utc, utc_columns

if TYPE_CHECKING:
    import pandas as pd

MODEL_FIELDS = (
    ModelVersion.version, ModelVersion.model, ModelVersion.status, ModelVersion.backtest_mase,
    ModelVersion.baseline_mase, ModelVersion.reason, ModelVersion.train_start,
    ModelVersion.train_end, ModelVersion.created_at, ModelVersion.error,
)  # fmt: skip
MODEL_COLUMNS = ["series", *(f.key for f in MODEL_FIELDS)]
FORECAST_FIELDS = (
    ForecastPoint.series_id, ForecastPoint.ts, ForecastPoint.yhat, ForecastPoint.lower,
    ForecastPoint.upper,
)  # fmt: skip


def model_versions(engine: Engine, *, statuses: Sequence[str] = ()) -> "pd.DataFrame":
    """Return model versions with their series and backtest scores, newest first.

    ``backtest_mase`` below ``baseline_mase`` means the model beats the seasonal naive one.
    """
    import pandas as pd

    status = func.lower(ModelVersion.status)  # written through SQLModel as the enum member's name
    picked = (status.label("status") if f is ModelVersion.status else f for f in MODEL_FIELDS)
    newest = (col(ModelVersion.created_at).desc(), col(ModelVersion.id).desc())
    query = (
        select(Series.name, Series.labels, *picked)
        .join_from(ModelVersion, Series, col(Series.id) == col(ModelVersion.series_id))
        .order_by(*newest)
    )
    if statuses:
        query = query.where(status.in_(list(statuses)))
    with engine.connect() as conn:
        rows = conn.execute(query.limit(1000)).all()
    out = [(f"{r[0]}{_brace(r[1])}", *r[2:]) for r in rows]
    frame = pd.DataFrame(out, columns=MODEL_COLUMNS)
    return utc_columns(frame, "train_start", "train_end", "created_at")


def forecast(engine: Engine, series_ids: Sequence[int]) -> "pd.DataFrame":
    """Return the newest forecast of each series: ``series_id, ts, yhat, lower, upper``."""
    import pandas as pd

    f = ForecastPoint
    newest = (
        select(f.series_id, func.max(f.issued_at).label("issued_at"))
        .where(col(f.series_id).in_(list(series_ids)))
        .group_by(f.series_id)
    ).subquery()
    query = (
        select(*FORECAST_FIELDS)
        .join(
            newest,
            (col(f.series_id) == newest.c.series_id) & (col(f.issued_at) == newest.c.issued_at),
        )
        .order_by(f.series_id, f.ts)
    )
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query)] if series_ids else []
    frame = pd.DataFrame(rows, columns=[f.key for f in FORECAST_FIELDS])
    frame["ts"] = utc(frame["ts"])
    return frame.astype({"yhat": "float64", "lower": "float64", "upper": "float64"})


def anomalies(
    engine: Engine, series_ids: Sequence[int], start: datetime, end: datetime, min_score: float
) -> "pd.DataFrame":
    """Return samples scored at least ``min_score`` by any detector: ``series_id, ts, value,
    score, detector`` (the highest-scoring detector of each sample)."""
    import pandas as pd

    a = AnomalyScore
    query = (
        select(a.series_id, a.ts_ms, Sample.value, a.score, a.detector)
        .join(
            Sample,
            (col(Sample.series_id) == col(a.series_id)) & (col(Sample.ts_ms) == col(a.ts_ms)),
        )
        .where(col(a.series_id).in_(list(series_ids)))
        .where(col(a.ts_ms).between(millis(start), millis(end)), col(a.score) >= min_score)
        .order_by(a.series_id, a.ts_ms, col(a.score).desc())
    )
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["series_id", "ts_ms", "value", "score", "detector"])
    frame = frame.drop_duplicates(["series_id", "ts_ms"])
    frame.insert(1, "ts", pd.to_datetime(frame.pop("ts_ms").astype("int64"), unit="ms", utc=True))
    return frame


def _brace(labels_text: str) -> str:
    labels = parse_canonical(labels_text)
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else ""


def has_forecasts(engine: Engine) -> bool:
    """True once any forecast is stored."""
    with engine.connect() as conn:
        return conn.scalar(select(ForecastPoint.series_id).limit(1)) is not None
