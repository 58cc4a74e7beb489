"""Shape evaluated values as the Prometheus HTTP API's ``data`` objects."""

import math

import numpy as np

from tasks.core.query.evaluate import SeriesPoints, Value, window


def format_value(value: float) -> str:
    """Write a sample value as Prometheus does: plain decimals, ``+Inf``, ``-Inf``, ``NaN``.

    >>> [format_value(v) for v in (2.0, 0.1, 1e-7, float("inf"), float("nan"))]
    ['2', '0.1', '0.0000001', '+Inf', 'NaN']
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return np.format_float_positional(value, trim="-")


def instant_data(value: Value, at: float) -> dict:
    """The ``data`` of an instant query: a ``scalar`` or a ``vector``."""
    if isinstance(value, np.ndarray):
        return {"resultType": "scalar", "result": [at, format_value(float(value[0]))]}
    found = [s for s in value if s.present[0]]
    result = [{"metric": s.labels, "value": [at, format_value(float(s.values[0]))]} for s in found]
    return {"resultType": "vector", "result": _sorted(result)}


def range_data(value: Value, times: np.ndarray) -> dict:
    """The ``data`` of a range query: always a ``matrix`` (a scalar is one unlabelled series)."""
    if isinstance(value, np.ndarray):
        points = [[float(t), format_value(float(v))] for t, v in zip(times, value, strict=True)]
        return {"resultType": "matrix", "result": [{"metric": {}, "values": points}]}
    result = []
    for s in value:
        points = [
            [float(t), format_value(float(v))]
            for t, v, p in zip(times, s.values, s.present, strict=True)
            if p
        ]
        result.append({"metric": s.labels, "values": points})
    return {"resultType": "matrix", "result": _sorted(result)}


def raw_matrix(found: list[SeriesPoints], at: float, range_s: float) -> dict:
    """The ``data`` of an instant query for a range selector ``x[5m]``: the raw samples."""
    result = []
    for points in found:
        ts, values = window(points, at, range_s)
        if len(ts):
            pairs = [[float(t), format_value(float(v))] for t, v in zip(ts, values, strict=True)]
            result.append({"metric": dict(points.labels), "values": pairs})
    return {"resultType": "matrix", "result": _sorted(result)}


def _sorted(result: list[dict]) -> list[dict]:
    return sorted(result, key=lambda r: sorted(r["metric"].items()))
