"""Contextual novelty: an unseen run of recent value levels is an anomaly.

In the spirit of CAD OSE (NAB's Contextual Anomaly Detector): values are quantised to a
few bins; the context of a row is the run of the last 1..``ORDERS`` bins ending at it;
the raw score is the share of those contexts never seen before in the series. It is
averaged over several bin counts (so a value near a bin edge does not decide alone) and
blended with the robust z of the value, which ranks strong outliers above mere novelty.

Online throughout: the bin range at row i comes from rows before i (a value outside it
lands in an edge bin of its own, then the range widens, and the history is re-binned so
later contexts compare like with like), novelty compares with rows before i only, and
after a raw score of ``REST_LEVEL`` the output rests at 0 for ``REST_ROWS`` rows, so one
event is one alarm. The first season (at least ``MIN_WARMUP_ROWS``) only teaches.
``RESOLUTIONS``, ``MARGIN``, ``SETTLE_MARGIN``, ``MIN_WARMUP_ROWS``, ``ORDERS``,
``Z_WEIGHT`` and ``REST_ROWS`` are the majority choice of ``bench/nab.py --cv 5`` over its
splits' training folds; ``Z_SCALE`` and ``REST_LEVEL`` are fixed; all are the same for every series.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tasks.core.anomaly.base import Detector
from tasks.core.anomaly.online import squash
from tasks.core.anomaly.statistical import point_surprise

RESOLUTIONS = tuple(range(6, 13))  # bin counts averaged over
ORDERS = 5  # contexts of 1..5 consecutive bins
MARGIN = 0.1  # a widened range reaches 10 % of the values' spread beyond them
SETTLE_MARGIN = 0.05  # and after the warm-up 5 % on both sides
Z_WEIGHT = 0.1  # share of the robust z of the value in the raw score
Z_SCALE = 10.0  # robust z that maps to 0.63 before blending
REST_LEVEL = 0.75  # a raw score this high is an alarm ...
REST_ROWS = 20  # ... and the output rests at 0 for this many rows after it
MIN_WARMUP_ROWS = 150  # rows (and at least one season) that only teach: at first
# every context is new, and a season shows the range of the values
CALIBRATION = 0.35  # score = raw ** 0.35: the NAB-best raw level (~0.74) maps to ~0.9,
# the frozen threshold `bench/nab.py --cv 5` picks (0.903) is the default `min_score`


@dataclass(frozen=True)
class Span:
    """Rows ``start``.. (to the next span) are binned over ``[low, high]``."""

    start: int
    low: float
    high: float


def range_spans(
    values: np.ndarray,
    settle_at: int,
    margin: float = MARGIN,
    settle_margin: float = SETTLE_MARGIN,
) -> list[Span]:
    """The bin range in force at each row, learned from the rows before it.

    A row outside the range keeps the old range (it falls outside the bins); from the
    next row on, the range reaches past the values seen by ``margin`` of their spread on
    that side. At ``settle_at`` (the end of the warm-up) it also reaches ``settle_margin``
    past them on both sides, so the small new records of a quiet series stay inside.

    >>> [(s.start, s.low, s.high) for s in range_spans(np.array([0.0, 10.0, 5.0, 12.0]), 3)]
    [(0, 0.0, 0.0), (2, 0.0, 11.0), (3, -0.5, 11.0), (4, -0.5, 13.2)]
    """
    low = high = float(values[0])
    spans = [Span(0, low, high)]
    i, settled = 1, False
    while i < len(values):
        stop = len(values) if settled else min(settle_at, len(values))
        outside = np.flatnonzero((values[i:stop] < low) | (values[i:stop] > high))
        if len(outside):
            j = i + int(outside[0])
            low, high = widened(values[: j + 1], low, high, margin, sides=values[j])
            spans.append(Span(j + 1, low, high))
            i = j + 1
        elif not settled and stop < len(values):
            low, high = widened(values[:stop], low, high, settle_margin)
            spans.append(Span(stop, low, high))
            i, settled = stop, True
        else:
            break
    return spans


def widened(
    seen: np.ndarray, low: float, high: float, margin: float, sides: float | None = None
) -> tuple[float, float]:
    """``[low, high]`` stretched to ``margin`` x spread past the seen values.

    Only the side(s) the value ``sides`` lies beyond move; both when it is None.

    >>> widened(np.array([0.0, 10.0]), 0.0, 5.0, 0.1, sides=10.0)
    (0.0, 11.0)
    """
    spread = float(seen.max() - seen.min())
    if sides is None or sides < low:
        low = min(low, float(seen.min()) - margin * spread)
    if sides is None or sides > high:
        high = max(high, float(seen.max()) + margin * spread)
    return low, high


def quantise(values: np.ndarray, low: float, high: float, bins: int) -> np.ndarray:
    """Bins of width (high - low) / (bins - 1) from ``low``, numbered 1..bins (the last
    reaches one width past ``high``); 0 below the range and bins + 1 beyond it.

    >>> quantise(np.array([-1.0, 0.0, 5.0, 10.0, 14.0, 16.0]), 0.0, 10.0, 3).tolist()
    [0, 1, 2, 3, 3, 4]
    """
    width = max(high - low, 1e-6 * (abs(high) + abs(low)) + 1e-12) / (bins - 1)
    return (np.clip(np.floor((values - low) / width), -1, bins) + 1).astype(np.int64)


def first_seen(codes: np.ndarray) -> np.ndarray:
    """True where a code occurs for the first time.

    >>> first_seen(np.array([3, 1, 3, 2, 1])).tolist()
    [True, True, False, True, False]
    """
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    return first[inverse] == np.arange(len(codes))


def novelty(values: np.ndarray, spans: list[Span], bins: int, orders: int = ORDERS) -> np.ndarray:
    """Share of the contexts of 1..``orders`` bins ending at each row never seen before it."""
    n = len(values)
    out = np.zeros(n)
    pad, radix = bins + 2, bins + 3  # pad: "before the series"
    for k, span in enumerate(spans):
        end = spans[k + 1].start if k + 1 < len(spans) else n
        if span.start >= end:
            continue
        binned = quantise(values[:end], span.low, span.high, bins)
        codes = np.zeros(end, dtype=np.int64)
        for lag in range(orders):
            codes = codes * radix + np.r_[np.full(lag, pad), binned[: end - lag]][:end]
            out[span.start : end] += first_seen(codes)[span.start : end]
    return out / orders


def rest_after_alarms(
    raw: np.ndarray, level: float = REST_LEVEL, rows: int = REST_ROWS
) -> np.ndarray:
    """Zero each score that follows a raw score of ``level`` or more within ``rows`` rows.

    >>> rest_after_alarms(np.array([0.9, 0.8, 0.1, 0.1, 0.9]), 0.75, 2).tolist()
    [0.9, 0.0, 0.0, 0.0, 0.9]
    """
    recent = pd.Series(raw).shift(1).rolling(rows, min_periods=1).max().fillna(0.0).to_numpy()
    return np.where(recent < level, raw, 0.0)


class ContextualNovelty(Detector):
    """Vigil's production detector: contextual novelty of quantised values (CAD OSE-like)."""

    name = "contextual"

    def __init__(
        self,
        period: int = 288,
        orders: int = ORDERS,
        z_weight: float = Z_WEIGHT,
        rest_rows: int = REST_ROWS,
        resolutions: tuple[int, ...] = RESOLUTIONS,
        margins: tuple[float, float] = (MARGIN, SETTLE_MARGIN),
        min_warmup: int = MIN_WARMUP_ROWS,
    ) -> None:
        super().__init__(period)
        self.orders, self.z_weight, self.rest_rows = orders, z_weight, rest_rows
        self.resolutions, self.margins, self.min_warmup = resolutions, margins, min_warmup

    def _score(self, values: np.ndarray) -> np.ndarray:
        warmup = max(self.min_warmup, self.period)
        spans = range_spans(values, warmup, *self.margins)
        context = np.mean(
            [novelty(values, spans, bins, self.orders) for bins in self.resolutions], axis=0
        )
        outlier = squash(point_surprise(values, self.period), Z_SCALE)
        raw = (1.0 - self.z_weight) * context + self.z_weight * outlier
        raw[:warmup] = 0.0
        return rest_after_alarms(raw, rows=self.rest_rows) ** CALIBRATION
