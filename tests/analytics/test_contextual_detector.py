"""The production detector: contextual novelty, scored against the alert level of anomaly rules."""

from typing import get_args

import numpy as np
import pytest
from synthetic import DAY, daily

from models.config.alerting import Rule
from models.config.analytics import AnalyticsConfig, DetectorName
from tasks.core.anomaly.contextual import ContextualNovelty, range_spans
from tasks.core.anomaly.registry import DEFAULT, DETECTORS, make_detector

ALERT_LEVEL = Rule.model_fields["min_score"].default  # anomaly rules' default
EVENT_AT = 3 * DAY + 100


def alarms(values: np.ndarray) -> list[int]:
    return np.flatnonzero(ContextualNovelty(DAY).score(values) >= ALERT_LEVEL).tolist()


@pytest.mark.parametrize("seed", range(5))
def test_a_spike_is_the_one_alarm_of_its_series(seed):
    values = daily(days=4, noise=0.5, seed=seed)
    values[EVENT_AT] += 15
    assert alarms(values) == [EVENT_AT]


@pytest.mark.parametrize("seed", range(5))
def test_a_level_shift_to_new_values_is_one_alarm_at_its_first_row(seed):
    values = daily(days=4, noise=0.5, seed=seed)
    values[EVENT_AT:] += 8
    assert alarms(values) == [EVENT_AT]


@pytest.mark.parametrize("seed", range(10))
def test_a_quiet_seasonal_series_never_reaches_the_alert_level(seed):
    assert alarms(daily(days=6, noise=0.5, seed=seed)) == []


def test_a_flat_series_with_a_step_alarms_once_at_the_step():
    values = np.r_[np.full(500, 3.0), np.full(300, 7.0)]
    assert alarms(values) == [500]


def test_a_score_never_changes_when_later_samples_change():
    values = daily(days=4, noise=0.5, seed=9)
    changed = values.copy()
    changed[700:] = np.r_[1e6, -50.0, np.nan, np.linspace(0, 100, len(values) - 703)]
    before = ContextualNovelty(DAY).score(values)[:700]
    np.testing.assert_array_equal(ContextualNovelty(DAY).score(changed)[:700], before)


def test_the_first_season_only_teaches():
    values = daily(days=2, noise=0.5, seed=10)
    values[50] += 100
    assert ContextualNovelty(DAY).score(values)[:DAY].max() == 0.0


def test_alert_rules_read_the_contextual_detector_by_default():
    assert DEFAULT == "contextual" == AnalyticsConfig().detector
    assert make_detector().name == "contextual"
    assert set(get_args(DetectorName)) == set(DETECTORS)  # older detectors stay available


def test_the_warm_up_lasts_min_warmup_rows_when_a_season_is_shorter():
    values = np.tile([1.0, 2.0, 3.0, 2.0], 100)
    values[120] = 40.0  # a spike inside a 150-row warm-up, after a 75-row one
    assert ContextualNovelty(4, min_warmup=150).score(values)[:150].max() == 0.0
    assert ContextualNovelty(4, min_warmup=75).score(values)[120] >= ALERT_LEVEL


def test_wider_margins_keep_a_later_small_record_inside_the_range():
    values = np.array([0.0, 10.0, 5.0, 12.0])
    default = [(s.start, s.low, s.high) for s in range_spans(values, 3)]
    wide = [(s.start, s.low, s.high) for s in range_spans(values, 3, 0.2, 0.1)]
    assert default[-1] == (4, -0.5, 13.2)  # 12 left [-0.5, 11]: the range widened after it
    assert wide == [(0, 0.0, 0.0), (2, 0.0, 12.0), (3, -1.0, 12.0)]  # 12 stayed inside
