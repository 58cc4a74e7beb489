import numpy as np
import pytest

from tasks.core.anomaly.nab_score import (
    PROFILES,
    LabelledFile,
    Profile,
    row_weights,
    score_corpus,
    sigmoid,
)

STANDARD, LOW_FP, LOW_FN = PROFILES
WINDOW = (40, 49)  # ten rows; a 100-row file has 15 rows of probation


def file_with(detections: dict[int, float], windows=(WINDOW,), n: int = 100) -> LabelledFile:
    scores = np.zeros(n)
    for row, score in detections.items():
        scores[row] = score
    return LabelledFile(scores, tuple(windows))


def test_the_earliest_detection_in_a_window_is_worth_the_full_true_positive():
    result = score_corpus([file_with({40: 1.0})], STANDARD)
    assert result.raw == pytest.approx(1.0)
    assert result.normalised == pytest.approx(100.0)


def test_a_detection_at_the_window_end_is_worth_little():
    result = score_corpus([file_with({49: 1.0})], STANDARD)
    weight = sigmoid(-0.1) / sigmoid(-1.0)  # = 0.2482
    assert result.raw == pytest.approx(weight)
    assert result.normalised == pytest.approx(100 * (weight + 1) / 2)


def test_the_threshold_trades_a_false_positive_for_a_hit():
    # at T=0.8 the early FP (-0.11) and the hit (+1) both count: 0.89 beats -1 (never firing)
    result = score_corpus([file_with({20: 0.9, 40: 0.8})], STANDARD)
    assert result.threshold == pytest.approx(0.8)
    assert result.raw == pytest.approx(0.89)
    assert result.normalised == pytest.approx(94.5)
    low_fp = score_corpus([file_with({20: 0.9, 40: 0.8})], LOW_FP)
    assert low_fp.raw == pytest.approx(0.78)


def test_a_lone_false_positive_makes_the_best_threshold_never_fire():
    result = score_corpus([file_with({20: 1.0})], STANDARD)
    assert result.threshold == float("inf") and result.normalised == pytest.approx(0.0)


def test_false_positives_just_after_a_window_cost_less():
    weights, window_of = row_weights(100, [WINDOW], STANDARD)
    assert weights[20] == pytest.approx(-0.11)
    assert weights[60] == pytest.approx(0.11 * sigmoid(11 / 9))  # -0.1095
    assert weights[50] == pytest.approx(0.11 * sigmoid(1 / 9))  # nearly free
    assert window_of[45] == 0 and window_of[50] == -1


def test_probation_ignores_early_detections_and_windows():
    # rows 0..14 are probation: the window inside it is dropped, the detection ignored
    early = file_with({5: 1.0, 40: 0.5}, windows=((3, 8), WINDOW))
    result = score_corpus([early], STANDARD)
    assert result.raw == pytest.approx(1.0) and result.normalised == pytest.approx(100.0)


def test_missed_windows_cost_the_false_negative_weight_per_profile():
    files = [file_with({40: 1.0}), file_with({})]
    standard = score_corpus(files, STANDARD)
    assert standard.raw == pytest.approx(0.0) and standard.normalised == pytest.approx(50.0)
    low_fn = score_corpus(files, LOW_FN)
    assert low_fn.raw == pytest.approx(-1.0)
    assert low_fn.normalised == pytest.approx(100 * (-1 + 4) / (2 + 4))


def test_several_detections_in_one_window_count_once():
    once = score_corpus([file_with({40: 1.0})], STANDARD)
    many = score_corpus([file_with({40: 1.0, 41: 1.0, 45: 1.0})], STANDARD)
    assert many.raw == pytest.approx(once.raw)


def test_a_custom_profile_weights_apply():
    harsh = Profile("harsh", tp=1.0, fp=0.5, fn=1.0)
    result = score_corpus([file_with({20: 0.9, 40: 0.8})], harsh)
    assert result.raw == pytest.approx(0.5)
