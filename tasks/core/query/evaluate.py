"""Evaluate parsed PromQL (``tasks.core.query.language``) at many instants at once.

The caller fetches the samples every selector needs (``reads``) and passes them in; the
evaluation is pure. A scalar is one float per instant; an instant vector is a list of
``Series``, each with a value and a "present" flag per instant (absent instants are gaps).
"""

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.errors import QueryError
from models.vocabulary.selectors import Selector
from tasks.core.query.language import (
    Aggregate,
    Binary,
    Negate,
    Node,
    Number,
    RangeCall,
    RangeSelect,
    VectorSelect,
)
from tasks.core.query.windows import extrapolated_delta, instant_rate, over_time

LOOKBACK_S = 300.0  # an instant selector sees a series' newest sample up to 5 minutes old
NAME = "__name__"


class EvaluationError(QueryError):
    """A well-formed query whose evaluation fails (Prometheus' ``execution`` error)."""


@dataclass(frozen=True)
class SeriesPoints:
    """One stored series: its labels (with ``__name__``) and samples, oldest first."""

    labels: Mapping[str, str]
    ts: np.ndarray  # epoch seconds
    values: np.ndarray


@dataclass(frozen=True)
class Read:
    """What a selector needs from the store: how far back from each instant, and why."""

    selector: Selector
    lookback_s: float
    offset_s: float
    is_counter: bool  # read by rate/irate/increase: a rollup's last value, not its mean


@dataclass
class Series:
    """An instant-vector series evaluated at each instant."""

    labels: dict[str, str]
    values: np.ndarray
    present: np.ndarray  # bool


Fetched = Mapping[Selector, Sequence[SeriesPoints]]
Value = np.ndarray | list[Series]


def reads(node: Node) -> Iterator[Read]:
    """Yield what each selector in ``node`` reads."""
    if isinstance(node, VectorSelect):
        yield Read(node.selector, LOOKBACK_S, node.offset_s, False)
    elif isinstance(node, RangeSelect):
        yield Read(node.selector, node.range_s, node.offset_s, False)
    elif isinstance(node, RangeCall):
        arg = node.arg
        is_counter = node.name in ("rate", "irate", "increase")
        yield Read(arg.selector, arg.range_s, arg.offset_s, is_counter)
    elif isinstance(node, Aggregate | Negate):
        yield from reads(node.expr)
    elif isinstance(node, Binary):
        yield from reads(node.lhs)
        yield from reads(node.rhs)


def evaluate(node: Node, fetched: Fetched, times: np.ndarray) -> Value:
    """Evaluate ``node`` at each of ``times`` (epoch seconds) over the ``fetched`` samples.

    >>> pts = SeriesPoints({"__name__": "up", "job": "a"}, np.array([0.0]), np.array([1.0]))
    >>> sel = Selector("up")
    >>> [s.values.tolist() for s in evaluate(VectorSelect(sel), {sel: [pts]}, np.array([0.0, 400]))]
    [[1.0, 1.0]]
    """
    if isinstance(node, Number):
        return np.full(len(times), node.value)
    if isinstance(node, VectorSelect):
        return _instant(fetched.get(node.selector, ()), times - node.offset_s)
    if isinstance(node, RangeCall):
        return _range_call(node, fetched.get(node.arg.selector, ()), times)
    if isinstance(node, Aggregate):
        return _aggregate(node, _vector(evaluate(node.expr, fetched, times)))
    if isinstance(node, Negate):
        inner = evaluate(node.expr, fetched, times)
        if isinstance(inner, np.ndarray):
            return -inner
        return _unique([Series(_without_name(s.labels), -s.values, s.present) for s in inner])
    if isinstance(node, Binary):
        return _binary(node, evaluate(node.lhs, fetched, times), evaluate(node.rhs, fetched, times))
    raise QueryError("a range selector such as x[5m] must be an argument of a function")


def window(points: SeriesPoints, end: float, range_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The samples of ``points`` in ``(end - range_s, end]``."""
    lo = np.searchsorted(points.ts, end - range_s, side="right")
    hi = np.searchsorted(points.ts, end, side="right")
    return points.ts[lo:hi], points.values[lo:hi]


def _instant(found: Sequence[SeriesPoints], times: np.ndarray) -> list[Series]:
    out = []
    for points in found:
        newest = np.searchsorted(points.ts, times, side="right") - 1
        safe = np.clip(newest, 0, None)
        present = (newest >= 0) & (points.ts[safe] > times - LOOKBACK_S)
        if present.any():
            out.append(Series(dict(points.labels), points.values[safe].astype(float), present))
    return out


def _range_call(call: RangeCall, found: Sequence[SeriesPoints], times: np.ndarray) -> list[Series]:
    arg = call.arg
    out = []
    for points in found:
        values, present = np.zeros(len(times)), np.zeros(len(times), dtype=bool)
        for i, t in enumerate(times - arg.offset_s):
            ts, vs = window(points, float(t), arg.range_s)
            result = _apply(call, ts, vs, float(t))
            if result is not None:
                values[i], present[i] = result, True
        if present.any():
            keeps_name = call.name == "last_over_time"
            labels = dict(points.labels) if keeps_name else _without_name(points.labels)
            out.append(Series(labels, values, present))
    return _unique(out)


def _apply(call: RangeCall, ts: np.ndarray, values: np.ndarray, end: float) -> float | None:
    if call.name == "irate":
        return instant_rate(ts, values)
    if call.name in ("rate", "increase"):
        start = end - call.arg.range_s
        return extrapolated_delta(ts, values, start, end, is_rate=call.name == "rate")
    return over_time(call.name, values, call.param)


def _aggregate(node: Aggregate, found: list[Series]) -> list[Series]:
    groups: dict[tuple[tuple[str, str], ...], list[Series]] = {}
    for series in found:
        groups.setdefault(_group_key(node, series.labels), []).append(series)
    out = []
    for key, members in groups.items():
        values = np.vstack([s.values for s in members])
        present = np.vstack([s.present for s in members])
        counts = present.sum(axis=0)
        with np.errstate(all="ignore"):
            result = _REDUCE[node.op](values, present, counts)
        out.append(Series(dict(key), result, counts > 0))
    return out


def _group_key(node: Aggregate, labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    if node.is_without:
        dropped = {*node.labels, NAME}
        return tuple(sorted((k, v) for k, v in labels.items() if k not in dropped))
    return tuple(sorted((k, labels[k]) for k in set(node.labels) if labels.get(k)))


def _sum(values: np.ndarray, present: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return np.where(present, values, 0.0).sum(axis=0)


_REDUCE: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "sum": _sum,
    "avg": lambda v, p, n: _sum(v, p, n) / np.maximum(n, 1),
    "min": lambda v, p, n: np.where(p, v, np.inf).min(axis=0),
    "max": lambda v, p, n: np.where(p, v, -np.inf).max(axis=0),
    "count": lambda v, p, n: n.astype(float),
}
_ARITHMETIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,  # Go's math.Mod: the sign of the dividend
    "^": np.power,
}
_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def _binary(node: Binary, lhs: Value, rhs: Value) -> Value:
    if isinstance(lhs, np.ndarray) and isinstance(rhs, np.ndarray):
        return _combine(node.op, lhs, rhs)
    if isinstance(lhs, np.ndarray):
        return _with_scalar(node, _vector(rhs), lhs, scalar_first=True)
    if isinstance(rhs, np.ndarray):
        return _with_scalar(node, lhs, rhs, scalar_first=False)
    return _one_to_one(node, lhs, rhs)


def _one_to_one(node: Binary, lhs: list[Series], rhs: list[Series]) -> list[Series]:
    """Pair series whose matching labels are equal; each side may hold one per label set."""
    right = _by_match_key(node, rhs, "right")
    out = []
    for key, s in _by_match_key(node, lhs, "left").items():
        other = right.get(key)
        if other is None:
            continue
        present = s.present & other.present
        result = _combine(node.op, s.values, other.values)
        if node.op in _COMPARE and not node.return_bool:  # a filter: the left value stays
            out.append(Series(s.labels, s.values, present & (result == 1.0)))
            continue
        labels = _without_name(s.labels)
        if node.on is not None:
            labels = {k: v for k, v in labels.items() if k in node.on}
        else:
            labels = {k: v for k, v in labels.items() if k not in node.ignoring}
        out.append(Series(labels, result, present))
    return _unique([s for s in out if s.present.any()])


def _by_match_key(node: Binary, found: list[Series], side: str) -> dict[tuple, Series]:
    keyed: dict[tuple, Series] = {}
    for s in found:
        if node.on is not None:
            key = tuple(sorted((k, s.labels.get(k, "")) for k in node.on))
        else:
            dropped = {NAME, *node.ignoring}
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k not in dropped))
        if key in keyed:
            raise EvaluationError(
                f"found duplicate series for the match group {dict(key)} on the {side} hand-side "
                "of the operation; many-to-many matching is not allowed: use on(...) or "
                "aggregate first"
            )
        keyed[key] = s
    return keyed


def _with_scalar(
    node: Binary, found: list[Series], scalar: np.ndarray, *, scalar_first: bool
) -> list[Series]:
    out = []
    for s in found:
        left, right = (scalar, s.values) if scalar_first else (s.values, scalar)
        result = _combine(node.op, left, right)
        if node.op in _ARITHMETIC or node.return_bool:
            out.append(Series(_without_name(s.labels), result, s.present))
        else:  # a comparison filters: the vector's own value stays
            out.append(Series(s.labels, s.values, s.present & (result == 1.0)))
    return _unique([s for s in out if s.present.any()])


def _combine(op: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        if op in _ARITHMETIC:
            return _ARITHMETIC[op](left, right).astype(float)
        return _COMPARE[op](left, right).astype(float)


def _vector(value: Value) -> list[Series]:
    assert not isinstance(value, np.ndarray), "a scalar where a vector was expected"
    return value


def _without_name(labels: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != NAME}


def _unique(found: list[Series]) -> list[Series]:
    """Refuse a result where two series share a label set (after ``__name__`` was dropped)."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    for s in found:
        key = tuple(sorted(s.labels.items()))
        if key in seen:
            raise EvaluationError(
                f"vector cannot contain metrics with the same labelset {dict(key)}; "
                "aggregate first, e.g. sum by (...)"
            )
        seen.add(key)
    return found
