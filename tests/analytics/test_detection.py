import numpy as np
import pytest
from synthetic import DAY, daily

from tasks.core.anomaly.leak import MemoryLeak, leak_estimate
from tasks.core.anomaly.registry import DETECTORS, make_detector

SPIKE_AT = 3 * DAY + 100
SHIFT_AT = 3 * DAY + 50


def with_spike() -> np.ndarray:
    values = daily(days=4, noise=0.5, seed=4)
    values[SPIKE_AT] += 15
    return values


def with_level_shift() -> np.ndarray:
    values = daily(days=4, noise=0.5, seed=5)
    values[SHIFT_AT:] += 8
    return values


@pytest.mark.parametrize("name", ["ensemble", "robust_z", "seasonal_esd", "cusum", "lof"])
def test_a_known_spike_gets_the_highest_score(name):
    scores = DETECTORS[name]().score(with_spike())
    assert SPIKE_AT <= int(np.argmax(scores)) <= SPIKE_AT + 8
    assert scores[SPIKE_AT : SPIKE_AT + 9].max() > 2 * np.quantile(scores[DAY:], 0.99)


@pytest.mark.parametrize("name", ["ensemble", "cusum", "robust_z"])
def test_a_known_level_shift_is_flagged_soon_after_it_starts(name):
    scores = DETECTORS[name]().score(with_level_shift())[DAY:]
    first_alarm = DAY + int(np.argmax(scores >= 0.5 * scores.max()))
    assert SHIFT_AT <= first_alarm <= SHIFT_AT + 12


def test_a_steady_rss_climb_is_a_leak_and_a_daily_cycle_is_not():
    t = np.arange(600) * 60.0
    rng = np.random.default_rng(6)
    leaking = 2e8 + 4e5 * np.arange(600) + rng.normal(0, 1e6, 600)
    cycling = 2e8 + 2e7 * np.sin(np.arange(600) * 2 * np.pi / 300) + rng.normal(0, 1e6, 600)
    assert leak_estimate(leaking, t).is_leaking
    assert leak_estimate(leaking, t).slope_bytes_per_hour == pytest.approx(4e5 * 60, rel=0.05)
    assert not leak_estimate(cycling, t).is_leaking
    scores = MemoryLeak(period=150).score(leaking)
    assert scores[-1] > 0.8 and MemoryLeak(period=150).score(cycling)[-1] < 0.5


def test_a_detector_that_crashes_falls_back_to_robust_z():
    detector = make_detector("ensemble")
    detector.primary._score = lambda values: 1 / 0  # a bug in the primary detector
    scores = detector.score(with_spike())
    assert detector.name == "robust_z" and "ZeroDivisionError" in detector.failure
    assert SPIKE_AT <= int(np.argmax(scores)) <= SPIKE_AT + 8


def test_an_unknown_detector_names_the_choices():
    with pytest.raises(KeyError, match="choose one of contextual, knn_cad, blend, ensemble"):
        make_detector("magic")


def test_the_rolling_leak_score_is_the_line_fit_of_each_window():
    rng = np.random.default_rng(12)
    rss = np.r_[np.full(300, 2e8), 2e8 + 3e5 * np.arange(300)] + rng.normal(0, 1e6, 600)
    scores = MemoryLeak(period=100).score(rss)
    t = np.arange(600.0)
    for i in (199, 350, 420, 599):
        fit = leak_estimate(rss[i - 199 : i + 1], t[i - 199 : i + 1])
        expected = max(fit.r2, 0.0) * min(max(fit.growth, 0.0) / 0.1, 1.0)
        assert scores[i] == pytest.approx(expected, abs=0.01)
    assert scores[:199].max() == 0.0
