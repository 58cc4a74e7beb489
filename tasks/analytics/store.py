"""Read and write model versions, forecasts and anomaly scores (one engine, plain data)."""

import json
import math
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text, update
from sqlmodel import Session, col, select

from models.analytics import AnomalyScore, ForecastPoint, ModelStatus, ModelVersion
from models.db import make_engine
from models.metrics import MetricKind
from models.store import MetricStore, NewSample, SeriesInfo
from tasks.core.forecast.retrain import CurrentModel, VersionDraft
from tasks.core.forecast.threshold import ThresholdEstimate

ANOMALY_METRIC = "vigil_anomaly_score"
CROSSING_METRIC = "vigil_forecast_crossing_seconds"


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per store URL per process (tasks receive URLs so Dask can ship them)."""
    return make_engine(url)


def series_ref(info: SeriesInfo) -> str:
    """Prometheus-style name of a series: ``name{a="1",b="2"}``.

    >>> from models.metrics import MetricKind
    >>> series_ref(SeriesInfo(1, "disk_used", {"mount": "/", "host": "a"}, MetricKind.GAUGE, ""))
    'disk_used{host="a",mount="/"}'
    """
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(info.labels.items()))
    return f"{info.name}{{{labels}}}"


def current_version(engine: Engine, series_id: int) -> ModelVersion | None:
    """The series' current model version, if any."""
    with Session(engine) as session:
        query = select(ModelVersion).where(
            ModelVersion.series_id == series_id, ModelVersion.status == ModelStatus.CURRENT
        )
        return session.exec(query).first()


def as_current(version: ModelVersion | None) -> CurrentModel | None:
    """What retraining needs from a stored current version."""
    if version is None:
        return None
    trained_at = version.created_at
    if trained_at.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        trained_at = trained_at.replace(tzinfo=UTC)
    trained_until = version.train_end
    if trained_until.tzinfo is None:
        trained_until = trained_until.replace(tzinfo=UTC)
    params = json.loads(version.params or "{}")
    return CurrentModel(
        version.model, version.period, version.backtest_mase, trained_at, trained_until, params
    )


def save_version(
    engine: Engine,
    series_id: int,
    draft: VersionDraft,
    *,
    train_start: datetime,
    train_end: datetime,
    now: datetime,
) -> ModelVersion:
    """Store a draft; if promoted, retire the old current version in the same transaction."""
    with Session(engine) as session:
        latest = _latest_version(session, series_id)
        if draft.is_promoted:
            session.execute(  # compare-and-set: only the version that is current now
                update(ModelVersion)
                .where(
                    col(ModelVersion.series_id) == series_id,
                    col(ModelVersion.status) == ModelStatus.CURRENT,
                )
                .values(status=ModelStatus.RETIRED)
            )
        row = ModelVersion(
            series_id=series_id,
            version=(latest or 0) + 1,
            model=draft.model,
            status=ModelStatus.CURRENT if draft.is_promoted else ModelStatus.CANDIDATE,
            period=draft.period,
            seasonality=draft.seasonality,
            params=json.dumps(draft.params, default=str),
            train_start=train_start,
            train_end=train_end,
            backtest_mase=_finite(draft.backtest_mase),
            baseline_mase=_finite(draft.baseline_mase),
            backtest=json.dumps(draft.backtest),
            reason=draft.reason,
            error=draft.error,
            created_at=now,
        )
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def _latest_version(session: Session, series_id: int) -> int | None:
    """The newest version number stored for a series (None before the first)."""
    return session.exec(
        select(ModelVersion.version)
        .where(ModelVersion.series_id == series_id)
        .order_by(col(ModelVersion.version).desc())
    ).first()


def save_failure(engine: Engine, series_id: int, error: str, *, now: datetime) -> None:
    """Record a refit that failed outright; the current version stays current."""
    with Session(engine) as session:
        latest = _latest_version(session, series_id)
        session.add(
            ModelVersion(
                series_id=series_id,
                version=(latest or 0) + 1,
                model="",
                status=ModelStatus.FAILED,
                period=1,
                seasonality="",
                train_start=now,
                train_end=now,
                backtest_mase=-1.0,
                baseline_mase=-1.0,
                error=error[:2000],
                created_at=now,
            )
        )
        session.commit()


def list_versions(engine: Engine, series_id: int | None = None) -> list[ModelVersion]:
    """Model versions, newest first (of one series, or all)."""
    with Session(engine) as session:
        query = select(ModelVersion).order_by(col(ModelVersion.created_at).desc())
        if series_id is not None:
            query = query.where(ModelVersion.series_id == series_id)
        return list(session.exec(query).all())


def save_forecast(
    engine: Engine, series_id: int, version_id: int, issued_at: datetime, forecast: pd.DataFrame
) -> int:
    """Store one forecast issue (ts, yhat, lower, upper); return the number of points."""
    rows = [
        ForecastPoint(
            series_id=series_id,
            model_version_id=version_id,
            issued_at=issued_at,
            ts=pd.Timestamp(r.ts).to_pydatetime(),
            yhat=float(r.yhat),
            lower=float(r.lower),
            upper=float(r.upper),
        )
        for r in forecast.itertuples()
    ]
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
    return len(rows)


def latest_forecast(engine: Engine, series_id: int) -> pd.DataFrame:
    """The newest forecast issue of a series: columns ts, yhat, lower, upper."""
    with Session(engine) as session:
        issued = session.exec(
            select(ForecastPoint.issued_at)
            .where(ForecastPoint.series_id == series_id)
            .order_by(col(ForecastPoint.issued_at).desc())
        ).first()
        if issued is None:
            return pd.DataFrame(columns=["ts", "yhat", "lower", "upper"])
        points = session.exec(
            select(ForecastPoint)
            .where(ForecastPoint.series_id == series_id, ForecastPoint.issued_at == issued)
            .order_by(col(ForecastPoint.ts))
        ).all()
    frame = pd.DataFrame([p.model_dump(include={"ts", "yhat", "lower", "upper"}) for p in points])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame[["ts", "yhat", "lower", "upper"]]


def save_scores(
    store: MetricStore, info: SeriesInfo, detector: str, ts: pd.Series, scores: np.ndarray
) -> int:
    """Store scores newer than the last stored one, in the table and as a metric series."""
    engine = store.engine
    with engine.connect() as conn:
        last = conn.execute(
            text("SELECT MAX(ts_ms) FROM anomaly_score WHERE series_id = :s AND detector = :d"),
            {"s": info.id, "d": detector},
        ).scalar()
    since_epoch = pd.to_datetime(ts, utc=True) - pd.Timestamp(0, tz="UTC")
    ts_ms = (since_epoch // pd.Timedelta(milliseconds=1)).to_numpy()  # any datetime resolution
    fresh = ts_ms > (last if last is not None else -1)
    points = [(int(t), float(v)) for t, v in zip(ts_ms[fresh], scores[fresh], strict=True)]
    rows = [{"series_id": info.id, "detector": detector, "ts_ms": t, "score": v} for t, v in points]
    if rows:
        with engine.begin() as conn:
            conn.execute(AnomalyScore.__table__.insert(), rows)  # type: ignore[attr-defined]
    # Alert rules of kind `anomaly` select the scored series' own labels plus `metric`.
    labels = {**info.labels, "metric": info.name, "detector": detector}
    store.write(
        NewSample(ANOMALY_METRIC, labels, t / 1000.0, v, MetricKind.GAUGE, "") for t, v in points
    )
    return len(rows)


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else -1.0


def save_crossings(
    store: MetricStore,
    info: SeriesInfo,
    estimates: list[ThresholdEstimate],
    now: datetime,
) -> None:
    """Write seconds until the forecast crosses each threshold (+inf: it does not).

    Alert rules of kind `forecast` read ``vigil_forecast_crossing_seconds{metric, threshold}``.
    """
    store.write(
        NewSample(
            CROSSING_METRIC,
            {**info.labels, "metric": info.name, "threshold": f"{e.threshold:g}"},
            now.timestamp(),
            math.inf if e.seconds_to_crossing is None else e.seconds_to_crossing,
            MetricKind.GAUGE,
            "seconds",
        )
        for e in estimates
    )
