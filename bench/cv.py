"""K-fold cross-validation over NAB files, stratified by category, with a fixed seed.

Files of each category are shuffled (seeded) and dealt round-robin to the folds, so every
fold holds a share of every category; the deal continues across categories so fold
sizes differ by at most one.
"""

from collections import defaultdict

import numpy as np

SEED = 18  # fixed: anyone rerunning the bench gets the same folds


def stratified_folds(keys: list[str], k: int, seed: int = SEED) -> list[int]:
    """Fold number (0..k-1) of each ``category/file.csv`` key.

    >>> stratified_folds(["a/1", "a/2", "b/1", "b/2"], 2)
    [0, 1, 0, 1]
    """
    if k < 2 or k > len(keys):
        raise ValueError(f"--cv needs 2 <= K <= {len(keys)} files; got {k}")
    rng = np.random.default_rng(seed)
    by_category: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        by_category[key.split("/")[0]].append(index)
    fold = [0] * len(keys)
    dealt = 0
    for category in sorted(by_category):
        members = by_category[category]
        for index in rng.permutation(members):
            fold[int(index)] = dealt % k
            dealt += 1
    return fold


def mean_spread(values: list[float], digits: int = 1) -> str:
    """``mean ± standard deviation`` over folds.

    >>> mean_spread([70.0, 74.0])
    '72.0 ± 2.0'
    """
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"
