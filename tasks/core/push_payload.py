"""Turn a pushed body (Prometheus text or JSON) into samples, refusing bad ones with a reason.

JSON form::

    {"samples": [{"name": "jobs_done_total", "labels": {"queue": "mail"},
                  "value": 12, "ts": 1764000000.5, "kind": "counter"}]}

``ts`` (seconds since the epoch) and ``kind`` (``gauge``, the default, or ``counter``)
are optional; a sample without ``ts`` is stamped with the time it arrived.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tasks.core.exposition import parse_exposition
from tasks.core.labels import label_set_problem

KINDS = ("gauge", "counter")


@dataclass(frozen=True, slots=True)
class PushedSample:
    """A sample that passed the checks: ``ts`` in seconds since the epoch."""

    name: str
    labels: dict[str, str]
    ts: float
    value: float
    kind: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A pushed sample that was not kept: where it was in the body, and why."""

    where: str  # "line 3" or "samples[2]"
    reason: str


@dataclass
class Decoded:
    """The samples to store and the refusals to report."""

    samples: list[PushedSample] = field(default_factory=list)
    wheres: list[str] = field(default_factory=list)  # where each sample came from
    refusals: list[Refusal] = field(default_factory=list)

    def keep(self, where: str, sample: PushedSample, *, now: datetime, max_ahead: timedelta):
        """Keep ``sample`` unless its value or time is unacceptable."""
        problem = value_problem(sample.value) or time_problem(sample.ts, now, max_ahead)
        if problem:
            self.refusals.append(Refusal(where, problem))
        else:
            self.samples.append(sample)
            self.wheres.append(where)


def value_problem(value: float) -> str | None:
    """Return why ``value`` cannot be stored, or None.

    >>> value_problem(float("nan"))
    'value is NaN; send a number or leave the sample out'
    """
    if math.isnan(value):
        return "value is NaN; send a number or leave the sample out"
    return None


def time_problem(ts: float, now: datetime, max_ahead: timedelta) -> str | None:
    """Return why timestamp ``ts`` is refused (too far in the future), or None."""
    ahead = ts - now.timestamp()
    if ahead > max_ahead.total_seconds():
        return (
            f"timestamp is {ahead:.0f}s in the future (at most "
            f"{max_ahead.total_seconds():.0f}s allowed); check the sender's clock"
        )
    return None


def decode_text(body: str, *, now: datetime, max_ahead: timedelta) -> Decoded:
    """Decode a Prometheus text page; timestamps on the page are milliseconds."""
    out = Decoded()
    page = parse_exposition(body)
    out.refusals.extend(Refusal(f"line {p.line}", p.reason) for p in page.problems)
    stamp = now.timestamp()
    for sample in page.samples:
        ts = stamp if sample.timestamp_ms is None else sample.timestamp_ms / 1000
        pushed = PushedSample(sample.name, sample.labels, ts, sample.value, sample.kind)
        out.keep(f"line {sample.line}", pushed, now=now, max_ahead=max_ahead)
    return out


def decode_json(payload: Any, *, now: datetime, max_ahead: timedelta) -> Decoded:
    """Decode the JSON form; raise ValueError when the body's shape is wrong as a whole."""
    if not isinstance(payload, dict) or not isinstance(payload.get("samples"), list):
        raise ValueError('the body must be an object with a "samples" list')
    out = Decoded()
    for index, item in enumerate(payload["samples"]):
        where = f"samples[{index}]"
        try:
            sample = _json_sample(item, now.timestamp())
        except ValueError as exc:
            out.refusals.append(Refusal(where, str(exc)))
            continue
        out.keep(where, sample, now=now, max_ahead=max_ahead)
    return out


def _json_sample(item: Any, default_ts: float) -> PushedSample:
    if not isinstance(item, dict):
        raise ValueError(f"a sample must be an object, got {type(item).__name__}")
    unknown = set(item) - {"name", "labels", "value", "ts", "kind"}
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
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
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return PushedSample(name, labels, ts, value, kind)  # type: ignore[arg-type]


def _number(value: Any, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field_name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)
