"""Turn a pushed body (Prometheus text or JSON) into samples, refusing bad ones with a reason.

JSON form::

    {"samples": [{"name": "jobs_done_total", "labels": {"queue": "mail"},
                  "value": 12, "ts": 1764000000.5, "kind": "counter"}]}

``ts`` (seconds since the epoch) and ``kind`` (``gauge``, the default, or ``counter``)
are optional; a sample without ``ts`` is stamped with the time it arrived.

Each sample is checked on its own, so one bad sample costs only itself: timestamps must
lie between 1970 and ``now + max_ahead``; JSON numbers must fit a float; names and labels
must fit a series (``models.vocabulary.labels``: name length, label count, value size).
"""

import reprlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from models.vocabulary.labels import label_set_problem
from tasks.core.collect.exposition import parse_exposition

KINDS = ("gauge", "counter")
EARLIEST_TIMESTAMP_S = 0.0  # 1970-01-01 UTC: an earlier sample is a unit mistake, not history


class PushedSample(NamedTuple):
    """A sample that passed the checks: ``ts`` in seconds since the epoch.

    Its fields are those of ``models.store.NewSample``, so the store takes it as is.
    """

    name: str
    labels: dict[str, str]
    ts: float
    value: float
    kind: str = "gauge"
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A pushed sample that was not kept: where it was in the body, and why."""

    where: str  # "line 3" or "samples[2]"
    reason: str


@dataclass
class Decoded:
    """The samples to store, where each came from, and the refusals to report."""

    samples: list[PushedSample] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)  # line number or JSON index per sample
    refusals: list[Refusal] = field(default_factory=list)
    is_text: bool = True

    def where(self, origin: int) -> str:
        """Name a place in the body: ``line 3`` (text) or ``samples[2]`` (JSON)."""
        return f"line {origin}" if self.is_text else f"samples[{origin}]"

    def keep(self, origin: int, sample: PushedSample, *, latest_ts: float) -> None:
        """Keep ``sample`` unless its value is NaN or its time is outside 1970..``latest_ts``."""
        problem = NAN_REASON if sample.value != sample.value else None
        problem = problem or timestamp_problem(sample.ts, latest_ts)
        if problem:
            self.refusals.append(Refusal(self.where(origin), problem))
        else:
            self.samples.append(sample)
            self.origins.append(origin)


NAN_REASON = "value is NaN; send a number or leave the sample out"


def timestamp_problem(ts: float, latest_ts: float) -> str | None:
    """Say why ``ts`` (seconds) is not between 1970 and ``latest_ts``; None when it is.

    >>> timestamp_problem(-86400.0, 700.0)
    'timestamp is before 1970 (-86400 s since the epoch); send the time since 1970-01-01 UTC'
    """
    if EARLIEST_TIMESTAMP_S <= ts <= latest_ts:
        return None
    if ts > latest_ts:
        return future_reason(ts, latest_ts)
    if ts < EARLIEST_TIMESTAMP_S:
        return (
            f"timestamp is before 1970 ({ts:.0f} s since the epoch); "
            "send the time since 1970-01-01 UTC"
        )
    return "timestamp is NaN; send a number or leave ts out"


def future_reason(ts: float, latest_ts: float) -> str:
    """Say how far past the allowed latest time ``ts`` is.

    >>> future_reason(1000.0, 700.0)
    "timestamp is too far in the future (300s beyond the allowed skew); check the sender's clock"
    """
    return (
        f"timestamp is too far in the future ({ts - latest_ts:.0f}s beyond the allowed skew); "
        "check the sender's clock"
    )


def decode_text(
    body: str,
    *,
    now: datetime,
    max_ahead: timedelta,
    label_cache: dict[str, dict[str, str]] | None = None,
) -> Decoded:
    """Decode a Prometheus text page; timestamps on the page are milliseconds."""
    out = Decoded()
    page = parse_exposition(body, label_cache)
    out.refusals.extend(Refusal(f"line {p.line}", p.reason) for p in page.problems)
    stamp, latest = now.timestamp(), now.timestamp() + max_ahead.total_seconds()
    keep, origins = out.samples.append, out.origins.append
    earliest = EARLIEST_TIMESTAMP_S
    for s in page.samples:  # the hot path of the push endpoint: no call per good sample
        ts = stamp if s.timestamp_ms is None else s.timestamp_ms / 1000  # 64-bit: no overflow
        sample = PushedSample(s.name, s.labels, ts, s.value, s.kind)
        if s.value == s.value and earliest <= ts <= latest:
            keep(sample)
            origins(s.line)
        else:
            out.keep(s.line, sample, latest_ts=latest)
    return out


def decode_json(payload: Any, *, now: datetime, max_ahead: timedelta) -> Decoded:
    """Decode the JSON form; raise ValueError when the body's shape is wrong as a whole."""
    if not isinstance(payload, dict) or not isinstance(payload.get("samples"), list):
        raise ValueError('the body must be an object with a "samples" list')
    out = Decoded(is_text=False)
    latest = now.timestamp() + max_ahead.total_seconds()
    for index, item in enumerate(payload["samples"]):
        try:
            sample = _json_sample(item, now.timestamp())
        except ValueError as exc:
            out.refusals.append(Refusal(out.where(index), str(exc)))
            continue
        out.keep(index, sample, latest_ts=latest)
    return out


def _json_sample(item: Any, default_ts: float) -> PushedSample:
    if not isinstance(item, dict):
        raise ValueError(f"a sample must be an object, got {type(item).__name__}")
    unknown = set(item) - {"name", "labels", "value", "ts", "kind"}
    if unknown:
        raise ValueError(f"unknown field(s) {reprlib.repr(sorted(unknown))[1:-1]}")
    name, labels = item.get("name"), item.get("labels", {})
    if not isinstance(labels, dict):
        raise ValueError(f"labels must be an object, got {type(labels).__name__}")
    problem = label_set_problem(name, labels)  # type: ignore[arg-type]
    if problem:
        raise ValueError(problem)
    value = _number(item.get("value"), "value")
    ts = default_ts if item.get("ts") is None else _number(item["ts"], "ts")
    kind = item.get("kind", "gauge")
    if kind not in KINDS:
        raise ValueError(f"kind {reprlib.repr(kind)} is not one of {', '.join(KINDS)}")
    return PushedSample(name, labels, ts, value, kind)  # type: ignore[arg-type]


def _number(value: Any, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        got = f"{type(value).__name__} {reprlib.repr(value)}"
        raise ValueError(f"{field_name} must be a number, got {got}")
    try:
        return float(value)
    except OverflowError:  # an integer beyond 1.8e308
        digits = len(str(abs(value)))
        raise ValueError(
            f"{field_name} has {digits} digits; a number must be below 1.8e308"
        ) from None
