from datetime import UTC, datetime, timedelta

from models.analytics import ModelStatus
from models.db import make_engine
from tasks.analytics.store import current_version, list_versions, save_failure, save_version
from tasks.core.forecast.retrain import RetrainReason, VersionDraft

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def draft(model: str, mase: float, promoted: bool) -> VersionDraft:
    return VersionDraft(
        model=model,
        period=288,
        seasonality="daily",
        params={"alpha": 0.3},
        backtest={model: mase, "seasonal_naive": 1.0},
        backtest_mase=mase,
        baseline_mase=1.0,
        is_promoted=promoted,
        reason=RetrainReason.SCHEDULE,
    )


def save(engine, d: VersionDraft, hours: int):
    at = NOW + timedelta(hours=hours)
    return save_version(engine, 1, d, train_start=at - timedelta(days=7), train_end=at, now=at)


def test_the_previous_version_stays_current_until_a_new_one_beats_it(db_url):
    engine = make_engine(db_url)
    first = save(engine, draft("ets", 0.6, promoted=True), 0)
    loser = save(engine, draft("arima", 0.7, promoted=False), 1)
    assert current_version(engine, 1).id == first.id
    assert loser.status == ModelStatus.CANDIDATE and loser.version == 2
    winner = save(engine, draft("seasonal_profile", 0.5, promoted=True), 2)
    current = current_version(engine, 1)
    assert (current.id, current.model, current.version) == (winner.id, "seasonal_profile", 3)
    statuses = {v.version: v.status for v in list_versions(engine, 1)}
    assert statuses == {1: ModelStatus.RETIRED, 2: ModelStatus.CANDIDATE, 3: ModelStatus.CURRENT}
    assert '"alpha": 0.3' in current.params and current.train_end > current.train_start
    engine.dispose()


def test_a_failed_refit_is_a_row_and_leaves_the_current_version_alone(db_url):
    engine = make_engine(db_url)
    first = save(engine, draft("ets", 0.6, promoted=True), 0)
    save_failure(engine, 1, "LinAlgError: singular matrix", now=NOW + timedelta(hours=1))
    assert current_version(engine, 1).id == first.id
    failed = list_versions(engine, 1)[0]
    assert failed.status == ModelStatus.FAILED and "singular" in failed.error
    engine.dispose()
