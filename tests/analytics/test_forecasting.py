import numpy as np
import pandas as pd
import pytest
from synthetic import DAY, daily, frame

from tasks.core.forecast.models import ETS, LinearTrend, SeasonalNaive, SeasonalProfile
from tasks.core.forecast.seasonality import Seasonality, detect_seasonality
from tasks.core.forecast.selection import (
    BACKTEST_ORIGINS,
    BASELINE,
    CANDIDATES,
    ENSEMBLE,
    ENSEMBLE_SIZE,
    Backtest,
    Selection,
    WithFallback,
    backtest,
    select_model,
)
from tasks.core.forecast.threshold import time_to_threshold


def test_a_daily_cycle_is_found_with_its_period():
    found = detect_seasonality(daily(days=4), step_seconds=300)
    assert (found.kind, found.period) == (Seasonality.DAILY, DAY)


def test_a_weekly_cycle_is_found_when_weekends_differ():
    hours = np.arange(24 * 7 * 4)
    weekend = ((hours // 24) % 7 >= 5) * -20.0
    values = 50 + 5 * np.sin(hours * 2 * np.pi / 24) + weekend
    values += np.random.default_rng(1).normal(0, 0.5, len(hours))
    found = detect_seasonality(values, step_seconds=3600)
    assert (found.kind, found.period) == (Seasonality.WEEKLY, 168)


def test_white_noise_has_no_seasonality():
    values = np.random.default_rng(2).normal(0, 1, DAY * 4)
    assert detect_seasonality(values, step_seconds=300).kind == Seasonality.NONE


def test_the_seasonal_profile_forecasts_a_clean_cycle_closely():
    data = frame(daily(days=4, noise=0.5))
    forecast = SeasonalProfile().fit(data).predict(DAY)
    truth = 50 + 10 * np.sin(np.arange(4 * DAY, 5 * DAY) * 2 * np.pi / DAY)
    assert np.mean(np.abs(forecast["yhat"] - truth)) < 0.5
    inside = (forecast["lower"] <= truth) & (truth <= forecast["upper"])
    assert inside.mean() > 0.9


def test_selection_prefers_a_model_that_beats_seasonal_naive_on_noisy_cycles():
    data = frame(daily(days=5, noise=3.0))
    chosen = select_model(data, ["seasonal_profile", "ets"], horizon=DAY // 2, n_origins=2)
    assert chosen.model != BASELINE
    assert chosen.backtest.mase[chosen.model] < 0.9 * chosen.backtest.mase[BASELINE]


def test_a_failing_candidate_loses_the_backtest_but_does_not_stop_it():
    data = frame(daily(days=3))

    class Broken(SeasonalNaive):
        name = "broken"

        def _fit(self, values):
            raise RuntimeError("diverged")

    def make(name, period):
        return Broken(period) if name == "broken" else SeasonalNaive(period)

    result = backtest(data, ["broken", BASELINE], horizon=24, n_origins=2, period=DAY, make=make)
    assert result.mase["broken"] == np.inf and "diverged" in result.errors["broken"]
    assert result.best() == BASELINE


def test_the_fallback_model_takes_over_when_the_primary_fails():
    data = frame(daily(days=2))
    model = WithFallback(ETS(period=DAY))
    too_short = data.iloc[:5]  # ETS needs 10 rows
    forecast = model.fit(too_short).predict(12)
    assert model.name == BASELINE and "ets failed" in model.failure
    assert len(forecast) == 12 and np.isfinite(forecast["yhat"]).all()


def test_a_rising_series_crosses_its_threshold_on_time():
    n = DAY * 3
    values = 20 + 0.05 * np.arange(n) + np.random.default_rng(3).normal(0, 0.5, n)
    data = frame(values)
    forecast = LinearTrend(period=1).fit(data).predict(DAY * 2)
    now = data["ts"].iloc[-1].to_pydatetime()
    estimate = time_to_threshold(forecast, 80.0, now=now)
    expected_steps = (80.0 - (20 + 0.05 * (n - 1))) / 0.05  # 336 steps = 28 h
    assert estimate.seconds_to_crossing == pytest.approx(expected_steps * 300, rel=0.05)
    assert estimate.probability > 0.95
    flat = time_to_threshold(forecast, 1e6, now=now)
    assert flat.crossing_at is None and flat.probability < 0.01


def test_a_bad_frame_is_refused_with_a_clear_error():
    data = pd.DataFrame(
        {"ts": pd.date_range("2026-01-01", periods=2, freq="5min"), "value": [1, 2]}
    )
    with pytest.raises(ValueError, match="need 3\\+ finite values"):
        SeasonalNaive().fit(data)


def test_a_series_whose_level_jumps_drifts_and_is_refitted():
    from datetime import timedelta

    from tasks.core.forecast.retrain import (
        CurrentModel,
        RetrainReason,
        recent_mase,
        retrain_reason,
    )

    values = daily(days=4, noise=0.5)
    data = frame(values)
    trained_at = data["ts"].iloc[-1].to_pydatetime()
    until = data["ts"].iloc[-49]  # the last 48 rows arrived after the version was trained
    current = CurrentModel("seasonal_profile", DAY, 0.6, trained_at, until)
    steady = recent_mase(data, current, horizon=48)
    values[-48:] += 20  # the last four hours moved up: the model's error explodes
    drifted = recent_mase(frame(values), current, horizon=48)
    assert drifted > 5 * steady
    # rows it was trained on are not judged again: nothing new, no verdict (not drift)
    seen_all = CurrentModel("seasonal_profile", DAY, 0.6, trained_at, data["ts"].iloc[-1])
    assert np.isnan(recent_mase(frame(values), seen_all, horizon=48))
    decide = dict(now=trained_at + timedelta(hours=4), every=timedelta(days=1), drift_threshold=1.5)
    assert retrain_reason(current, recent=steady, **decide) is None
    assert retrain_reason(current, recent=drifted, **decide) == RetrainReason.DRIFT


def test_after_a_level_shift_the_choice_forecasts_the_new_level_not_the_old_cycle():
    rng = np.random.default_rng(7)
    values = np.r_[np.full(3 * DAY + DAY // 2, 20.0), np.full(DAY, 80.0)] + rng.normal(
        0, 1, 4 * DAY + DAY // 2
    )
    data = frame(values)
    chosen = select_model(data, list(CANDIDATES), horizon=DAY // 8, n_origins=BACKTEST_ORIGINS)
    forecast = chosen.make().fit(data).predict(DAY // 4)["yhat"]
    assert abs(forecast.mean() - 80.0) < 5  # seasonal naive would say 20 for a while
    assert chosen.backtest.mase[chosen.model] < chosen.backtest.mase[BASELINE]


def test_the_median_of_the_best_is_scored_from_the_backtest_and_can_be_chosen():
    data = frame(daily(days=6, noise=3.0))
    chosen = select_model(data, list(CANDIDATES), horizon=DAY // 2, n_origins=BACKTEST_ORIGINS)
    backtest = chosen.backtest
    assert len(backtest.members) == ENSEMBLE_SIZE and ENSEMBLE not in backtest.members
    assert np.isfinite(backtest.mase[ENSEMBLE])
    ensemble = Selection(ENSEMBLE, chosen.period, chosen.seasonality, backtest).make().fit(data)
    assert ensemble.used.params["members"] == ",".join(backtest.members)


def test_a_model_must_beat_a_simpler_one_by_the_margin_to_be_chosen():
    close = Backtest({"last_value": 1.0, "seasonal_naive": 0.99, "ets": 0.96})
    assert close.best(0.05) == "last_value"
    assert close.best(0.0) == "ets"


def test_production_backtests_with_the_origins_the_benchmark_validates():
    from models.config.analytics import AnalyticsConfig

    assert AnalyticsConfig().backtest_origins == BACKTEST_ORIGINS
