"""One battery over every forecaster and every detector (STYLE.md: one estimator contract)."""

import numpy as np
import pandas as pd
import pytest

from tasks.core.anomaly.registry import DETECTORS
from tasks.core.anomaly.registry import WithFallback as DetectorFallback
from tasks.core.forecast.models import MODELS
from tasks.core.forecast.selection import WithFallback as ForecastFallback

PERIOD = 48  # a short season keeps the battery fast
N = 6 * PERIOD


def seasonal(n: int = N, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 10 + 3 * np.sin(np.arange(n) * 2 * np.pi / PERIOD) + rng.normal(0, 0.3, n)


def as_frame(values: np.ndarray) -> pd.DataFrame:
    ts = pd.date_range("2026-01-01", periods=len(values), freq="30min", tz="UTC")
    return pd.DataFrame({"ts": ts, "value": values})


@pytest.mark.parametrize("name", list(MODELS))
def test_every_forecaster_fits_and_predicts_a_frame_with_intervals(name):
    data = as_frame(seasonal())
    model = MODELS[name](period=PERIOD)
    assert model.fit(data) is model
    forecast = model.predict(PERIOD)
    assert list(forecast.columns) == ["ts", "yhat", "lower", "upper"]
    assert len(forecast) == PERIOD
    assert forecast["ts"].iloc[0] == data["ts"].iloc[-1] + pd.Timedelta("30min")
    assert forecast["ts"].is_monotonic_increasing
    assert (forecast["lower"] <= forecast["yhat"]).all()
    assert (forecast["yhat"] <= forecast["upper"]).all()
    assert np.mean(np.abs(forecast["yhat"] - 10)) < 4  # in the right range
    assert model.params["period"] == PERIOD


@pytest.mark.parametrize("name", list(MODELS))
def test_every_forecaster_refuses_a_non_numeric_series(name):
    data = as_frame(seasonal()).astype({"value": object})
    data.loc[5, "value"] = "n/a"
    with pytest.raises(ValueError, match="finite values"):
        MODELS[name](period=PERIOD).fit(data)


@pytest.mark.parametrize("name", list(DETECTORS))
def test_every_detector_scores_each_row_in_zero_to_one(name):
    values = seasonal(n=800)
    scores = DETECTORS[name](PERIOD).score(values)
    assert scores.shape == values.shape
    assert np.isfinite(scores).all() and scores.min() >= 0 and scores.max() <= 1


@pytest.mark.parametrize("name", list(DETECTORS))
def test_every_detector_is_online(name):
    values = seasonal(n=800, seed=1)
    values[600] += 5
    full = DETECTORS[name](PERIOD).score(values)
    prefix = DETECTORS[name](PERIOD).score(values[:650])
    np.testing.assert_allclose(prefix, full[:650], atol=1e-9)


@pytest.mark.parametrize("name", list(DETECTORS))
def test_every_detector_survives_constant_gappy_and_tiny_series(name):
    detector = DETECTORS[name](PERIOD)
    assert detector.score(np.full(300, 7.0)).max() <= 1
    gappy = seasonal(n=300)
    gappy[[10, 50, 51]] = np.nan
    assert np.isfinite(detector.score(gappy)).all()
    assert len(detector.score(np.array([1.0, 2.0]))) == 2
    assert len(detector.score(np.array([]))) == 0


@pytest.mark.parametrize("name", list(DETECTORS))
def test_higher_scores_mean_more_anomalous(name):
    if name == "memory_leak":
        values = np.r_[np.full(400, 100.0), 100 + np.arange(400) * 2.0]
        values += np.random.default_rng(2).normal(0, 0.5, 800)
        scores = DETECTORS[name](PERIOD).score(values)
        assert scores[700:].mean() > scores[200:400].mean() + 0.5
        return
    values = seasonal(n=800, seed=3)
    values[700] += 30
    scores = DETECTORS[name](PERIOD).score(values)
    assert scores[700:708].max() > np.quantile(scores[300:690], 0.99)


def broken(cls: type, method: str) -> type:
    """A subclass whose ``method`` raises: fault injection for the fall-back contract."""

    def fail(self, *args):
        raise RuntimeError("injected fault")

    return type(f"Broken{cls.__name__}", (cls,), {method: fail})


@pytest.mark.parametrize("name", [m for m in MODELS if m != "seasonal_naive"])
@pytest.mark.parametrize("method", ["_fit", "_predict"])
def test_every_forecaster_falls_back_to_seasonal_naive_when_it_fails(name, method):
    data = as_frame(seasonal())
    wrapped = ForecastFallback(broken(MODELS[name], method)(period=PERIOD)).fit(data)
    forecast = wrapped.predict(PERIOD)
    expected = MODELS["seasonal_naive"](period=PERIOD).fit(data).predict(PERIOD)
    np.testing.assert_allclose(forecast["yhat"], expected["yhat"])
    assert wrapped.name == "seasonal_naive" and "injected fault" in wrapped.failure


@pytest.mark.parametrize("name", [d for d in DETECTORS if d != "robust_z"])
def test_every_detector_falls_back_to_robust_z_when_it_fails(name):
    values = seasonal(n=800, seed=4)
    wrapped = DetectorFallback(broken(DETECTORS[name], "_score")(PERIOD))
    np.testing.assert_allclose(wrapped.score(values), DETECTORS["robust_z"](PERIOD).score(values))
    assert wrapped.name == "robust_z" and "injected fault" in wrapped.failure


def test_the_ensemble_forecasts_the_median_of_its_members():
    data = as_frame(seasonal(seed=5))
    members = ("last_value", "seasonal_profile", "ets")
    ensemble = MODELS["median_ensemble"](period=PERIOD, members=members).fit(data)
    each = [MODELS[m](period=PERIOD).fit(data).predict(PERIOD)["yhat"] for m in members]
    np.testing.assert_allclose(ensemble.predict(PERIOD)["yhat"], np.median(each, axis=0))
