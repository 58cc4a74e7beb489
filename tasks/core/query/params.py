"""Read the Prometheus HTTP API's ``time``, ``start``, ``end`` and ``step`` parameters."""

import math
from datetime import datetime

import promql_parser as pp

from models.errors import QueryError

MAX_POINTS = 11_000  # Prometheus' limit of points per series in a range query


def parse_time(name: str, text: str) -> float:
    """Return epoch seconds from a Unix timestamp or an RFC 3339 time.

    >>> parse_time("time", "2026-12-05T00:00:00Z"), parse_time("time", "1.5")
    (1796428800.0, 1.5)
    """
    try:
        value = float(text)
    except ValueError:
        return _rfc3339(name, text)
    if not math.isfinite(value):
        raise QueryError(f"{name}: {text!r} is not a finite timestamp")
    return value


def _rfc3339(name: str, text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(
            f"{name}: cannot parse {text!r} to a valid timestamp; "
            "write Unix seconds or RFC 3339 (2026-12-05T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise QueryError(f"{name}: {text!r} has no time zone; add Z or +00:00")
    return moment.timestamp()


def parse_step(text: str) -> float:
    """Return a positive step in seconds from ``15``, ``15s`` or ``1m30s``.

    >>> parse_step("1m30s"), parse_step("0.5")
    (90.0, 0.5)
    """
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = pp.parse_duration(text).total_seconds()
        except ValueError:
            raise QueryError(
                f"step: cannot parse {text!r} to a duration; write 15s or 15"
            ) from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise QueryError("step: zero or negative query resolution step widths are not accepted")
    return seconds


def step_times(start: float, end: float, step: float) -> list[float]:
    """The instants of a range query, ``start`` to ``end`` by ``step``; refuse too many.

    >>> step_times(0, 60, 30)
    [0.0, 30.0, 60.0]
    """
    if end < start:
        raise QueryError("end: end timestamp must not be before start time")
    count = int((end - start) // step) + 1
    if count > MAX_POINTS:
        raise QueryError(
            f"exceeded maximum resolution of {MAX_POINTS} points per timeseries; "
            "try decreasing the query resolution (?step=XX)"
        )
    return [float(start + i * step) for i in range(count)]
