"""NAB scoring: probation, sigmoid position weights, per-profile threshold, normalisation.

Implemented from the description in ``shared/data/nab/README.md``: a detection is a row
whose score reaches the threshold; each labelled window earns its best (earliest)
detection's weight or loses ``fn``; detections outside windows cost up to ``fp``.
"""

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Profile:
    """Weights of one NAB application profile."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)


@dataclass(frozen=True)
class LabelledFile:
    """One file's scores and its anomaly windows as inclusive row ranges."""

    scores: np.ndarray
    windows: tuple[tuple[int, int], ...]


def sigmoid(x: float) -> float:
    """NAB's scaled sigmoid: 2/(1+e^{5x}) - 1, and -1 beyond x = 3.

    >>> round(sigmoid(-1.0), 3), sigmoid(0.0), round(sigmoid(1.0), 3), sigmoid(4.0)
    (0.987, 0.0, -0.987, -1.0)
    """
    if x > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def probation_rows(n: int) -> int:
    """Rows at the start of a file that are not scored.

    >>> probation_rows(1000), probation_rows(10000)
    (150, 750)
    """
    return min(math.floor(0.15 * n), 750)


def scored_windows(n: int, windows: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """Drop the windows that lie entirely inside the probation period."""
    probation = probation_rows(n)
    return [(s, e) for s, e in windows if e >= probation]


def sigmoids(x: np.ndarray) -> np.ndarray:
    """Vectorised :func:`sigmoid`."""
    with np.errstate(over="ignore"):
        return np.where(x > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * np.minimum(x, 3.0))) - 1.0)


def row_weights(
    n: int, windows: list[tuple[int, int]], profile: Profile
) -> tuple[np.ndarray, np.ndarray]:
    """Weight of a detection at each row and the index of the window it falls in (-1: none)."""
    weights = np.full(n, -profile.fp)
    window_of = np.full(n, -1)
    rows = np.arange(n)
    ordered = sorted(windows)
    for k, (s, e) in enumerate(ordered):
        width = e - s + 1
        inside = rows[s : e + 1]
        weights[s : e + 1] = sigmoids(-(e - inside + 1) / width) * profile.tp / sigmoid(-1.0)
        window_of[s : e + 1] = k
        until = ordered[k + 1][0] if k + 1 < len(ordered) else n
        after = rows[e + 1 : until]
        weights[e + 1 : until] = profile.fp * sigmoids(np.abs(after - e) / max(width - 1, 1))
    return weights, window_of


@dataclass(frozen=True)
class ProfileResult:
    """Best threshold and the normalised score it gives."""

    profile: str
    threshold: float
    raw: float
    normalised: float


def score_corpus(files: list[LabelledFile], profile: Profile) -> ProfileResult:
    """Choose the single threshold that maximises the corpus score and normalise it.

    Sweeps thresholds from high to low over every distinct score: each row that joins
    the detections either adds its false-positive weight or improves its window's best.
    """
    all_scores, all_weights, all_windows = [], [], []
    window_count = 0
    for file in files:
        n = len(file.scores)
        windows = scored_windows(n, file.windows)
        weights, window_of = row_weights(n, windows, profile)
        keep = np.arange(n) >= probation_rows(n)
        all_scores.append(np.asarray(file.scores, dtype=float)[keep])
        all_weights.append(weights[keep])
        all_windows.append(np.where(window_of[keep] >= 0, window_of[keep] + window_count, -1))
        window_count += len(windows)
    scores = np.concatenate(all_scores) if all_scores else np.array([])
    weights = np.concatenate(all_weights) if all_weights else np.array([])
    window_ids = np.concatenate(all_windows) if all_windows else np.array([], dtype=int)
    null = -profile.fn * window_count
    best_total, best_threshold = null, math.inf
    total = null
    best_in_window = np.full(window_count, -profile.fn)
    order = np.argsort(-scores, kind="stable")
    for rank, row in enumerate(order):
        window = window_ids[row]
        if window < 0:
            total += weights[row]
        elif weights[row] > best_in_window[window]:
            total += weights[row] - best_in_window[window]
            best_in_window[window] = weights[row]
        is_last_of_tie = rank + 1 == len(order) or scores[order[rank + 1]] != scores[row]
        if is_last_of_tie and total > best_total:
            best_total, best_threshold = total, float(scores[row])
    perfect = profile.tp * window_count
    normalised = 100.0 * (best_total - null) / (perfect - null) if window_count else 0.0
    return ProfileResult(profile.name, best_threshold, best_total, normalised)


def score_at_threshold(files: list[LabelledFile], profile: Profile, threshold: float) -> float:
    """Normalised corpus score with one fixed ``threshold`` (production's single line)."""
    total = null = perfect = 0.0
    for file in files:
        n = len(file.scores)
        windows = scored_windows(n, file.windows)
        weights, window_of = row_weights(n, windows, profile)
        keep = np.arange(n) >= probation_rows(n)
        fired = keep & (np.asarray(file.scores, dtype=float) >= threshold)
        total += float(weights[fired & (window_of < 0)].sum())
        for k in range(len(windows)):
            hits = weights[fired & (window_of == k)]
            total += float(hits.max()) if len(hits) else -profile.fn
        null -= profile.fn * len(windows)
        perfect += profile.tp * len(windows)
    return 100.0 * (total - null) / (perfect - null) if perfect else 0.0
