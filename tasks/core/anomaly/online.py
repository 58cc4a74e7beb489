"""Causal building blocks: every output at row i uses rows up to i only."""

import numpy as np
import pandas as pd

MIN_HISTORY = 30  # rows of history before a robust z-score is trusted


def trailing_robust_z(
    values: np.ndarray, window: int, lag: int = 1, *, upper_only: bool = False
) -> np.ndarray:
    """|x_i - median| / robust scale, both over the ``window`` rows ending ``lag`` rows back.

    With ``upper_only`` only values above the median count (the rest score 0).

    The scale is the IQR/1.349, floored by a fifth of the standard deviation (flat series
    with rare blips) and a tiny fraction of the level (constant series).

    >>> z = trailing_robust_z(np.r_[np.tile([1.0, 2.0], 50), 20.0], 40)
    >>> bool(z[-1] > 10), bool(z[-2] < 2)
    (True, True)
    """
    s = pd.Series(np.asarray(values, dtype=float))
    history = s.shift(lag).rolling(window, min_periods=min(MIN_HISTORY, window))
    median = history.median()
    iqr = history.quantile(0.75) - history.quantile(0.25)
    floor = np.maximum(0.2 * history.std().fillna(0), 1e-3 * (median.abs().fillna(0) + 1e-3))
    deviation = (s - median).clip(lower=0) if upper_only else (s - median).abs()
    z = deviation / np.maximum(iqr / 1.349, floor)
    return z.fillna(0.0).to_numpy()


def seasonal_difference(values: np.ndarray, period: int) -> np.ndarray:
    """x_i - x_{i-period} (NaN while there is no earlier season)."""
    values = np.asarray(values, dtype=float)
    out = np.full_like(values, np.nan)
    if 0 < period < len(values):
        out[period:] = values[period:] - values[:-period]
    return out


def trailing_mean(values: np.ndarray, rows: int) -> np.ndarray:
    """Mean of the last ``rows`` rows up to and including each row."""
    return pd.Series(values).rolling(rows, min_periods=1).mean().to_numpy()


def keep_new_highs(raw: np.ndarray, rows: int) -> np.ndarray:
    """Zero every value not above all of the previous ``rows`` values.

    One event then raises one alarm instead of a burst.

    >>> keep_new_highs(np.array([1.0, 3.0, 2.0, 3.0, 5.0]), 2).tolist()
    [1.0, 3.0, 0.0, 0.0, 5.0]
    """
    previous = pd.Series(raw).shift(1).rolling(rows, min_periods=1).max().fillna(-np.inf)
    return np.where(raw > previous.to_numpy(), raw, 0.0)


def squash(raw: np.ndarray, scale: float) -> np.ndarray:
    """Map a non-negative surprise onto [0, 1): 1 - exp(-raw/scale).

    >>> squash(np.array([0.0, 1e9]), 2.0).tolist()
    [0.0, 1.0]
    """
    return 1.0 - np.exp(-np.maximum(np.nan_to_num(raw), 0.0) / scale)
