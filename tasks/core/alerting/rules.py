"""Compiled rules and their evaluation over incoming samples and check reports.

A rule turns each sample it selects into an ``Observation``: the alert's labels, whether
the condition holds, and the value. Windowed rules keep the recent points of each series
in memory (``Windows``); the engine warms them from the store after a restart.

Analytics inputs (written to the store by the analytics flows):

* ``anomaly`` rules read ``vigil_anomaly_score{metric="<name>", <series labels>}``, a score
  in [0, 1]; the rule fires at ``score >= min_score``.
* ``forecast`` rules read ``vigil_forecast_crossing_seconds{metric="<name>",
  threshold="<threshold, as %g>", <series labels>}``: seconds until the forecast crosses
  the threshold (absent or +inf when it does not); the rule fires at ``value <= within``.
"""

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tasks.core.alerting.conditions import COMPARE, Point, aggregate, slope
from tasks.core.check_state import CheckReport, CheckStatus
from tasks.core.selectors import Selector, label_matcher, parse_selector

ANOMALY_SERIES = "vigil_anomaly_score"
FORECAST_SERIES = "vigil_forecast_crossing_seconds"
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class RuleSpec:
    """A rule ready to evaluate (built from the config by ``compile_rule``)."""

    name: str
    kind: str
    selector: Selector | None = None
    aggregate: str = "last"
    window_s: float = 300.0
    op: str = ">"
    value: float = 0.0
    per_s: float = 1.0
    state: str = "down"
    sources: tuple[str, ...] = ()  # all/any: combined rules
    on: tuple[str, ...] = ("target",)
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    procedure: str | None = None

    @property
    def is_windowed(self) -> bool:
        """True when the condition needs more than the newest sample."""
        return self.kind == "rate_of_change" or self.aggregate != "last"

    def alert_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels of this rule's alert about ``labels``: series, rule, name, severity."""
        return {**labels, **self.labels, "alertname": self.name}


@dataclass(frozen=True)
class Observation:
    """One verdict of one rule about one label set at one instant."""

    rule: str
    labels: dict[str, str]
    is_breaching: bool
    value: float | None
    at: float  # epoch seconds
    for_s: float = 0.0
    is_fresh: bool = True  # False when the sweep re-judges old data as time passes


def compile_rule(rule: Any) -> RuleSpec:
    """Build a RuleSpec from a config ``Rule`` (models.config.alerting)."""
    kind = str(rule.kind)
    selector = parse_selector(rule.series) if rule.series else None
    op, value = rule.op, rule.value if rule.value is not None else 0.0
    if kind == "check_state":
        selector = parse_selector(rule.check) if rule.check else None
    elif kind == "anomaly":
        selector = _derived(selector, ANOMALY_SERIES, {})
        op, value = ">=", rule.min_score
    elif kind == "forecast":
        selector = _derived(selector, FORECAST_SERIES, {"threshold": f"{rule.threshold:g}"})
        op, value = "<=", rule.within.total_seconds()
    labels = {**rule.labels, "severity": str(rule.severity)}
    return RuleSpec(
        name=rule.name,
        kind=kind,
        selector=selector,
        aggregate=str(rule.aggregate),
        window_s=rule.window.total_seconds(),
        op=op,
        value=value,
        per_s=rule.per.total_seconds(),
        state=rule.state,
        sources=tuple(rule.rules),
        on=tuple(rule.join_on),
        for_s=rule.for_.total_seconds(),
        keep_firing_for_s=rule.keep_firing_for.total_seconds(),
        labels=labels,
        annotations=dict(rule.annotations),
        procedure=rule.procedure,
    )


def _derived(selector: Selector | None, name: str, extra: dict[str, str]) -> Selector:
    """Select analytics series about the series ``selector`` picks (its name becomes ``metric``)."""
    assert selector is not None and selector.name is not None
    matchers = [label_matcher("metric", "=", selector.name)]
    matchers += [label_matcher(k, "=", v) for k, v in extra.items()]
    return Selector(name, (*selector.matchers, *matchers))


class Windows:
    """The recent points of each (rule, series), trimmed to the rule's window."""

    def __init__(self) -> None:
        self._points: dict[tuple[str, SeriesKey], deque[Point]] = {}

    def add(self, rule: RuleSpec, key: SeriesKey, ts: float, value: float) -> deque[Point]:
        """Append a point (out-of-order points are dropped) and return the trimmed window."""
        points = self._points.setdefault((rule.name, key), deque())
        if points and ts <= points[-1][0]:
            return points
        points.append((ts, value))
        oldest = ts - rule.window_s
        while points[0][0] < oldest:
            points.popleft()
        return points


class RuleSet:
    """Sample rules indexed by metric name, so each sample meets only the rules about it."""

    def __init__(self, rules: Sequence[RuleSpec]) -> None:
        self.rules = {r.name: r for r in rules}
        self.windows = Windows()
        self._by_name: dict[str, list[RuleSpec]] = {}
        self._unnamed: list[RuleSpec] = []
        for rule in rules:
            if rule.kind in ("threshold", "rate_of_change", "anomaly", "forecast"):
                assert rule.selector is not None
                if rule.selector.name is None:
                    self._unnamed.append(rule)
                else:
                    self._by_name.setdefault(rule.selector.name, []).append(rule)
        self.evaluations = 0  # (sample, rule) pairs judged, for benchmarks

    def windowed_rules(self) -> list[RuleSpec]:
        """Rules whose windows should be warmed from the store."""
        return [r for rules in self._by_name.values() for r in rules if r.is_windowed] + [
            r for r in self._unnamed if r.is_windowed
        ]

    def observe(self, samples: Iterable[Any]) -> list[Observation]:
        """Judge every sample (``name, labels, ts, value``) against the rules that select it."""
        out: list[Observation] = []
        unnamed = self._unnamed
        for sample in samples:
            name, labels = sample[0], sample[1]
            rules = self._by_name.get(name, ())
            for rule in (*rules, *unnamed) if unnamed else rules:
                if rule.selector is not None and not rule.selector.matches(name, labels):
                    continue
                found = self._judge(rule, name, labels, _epoch(sample[2]), float(sample[3]))
                if found is not None:
                    out.append(found)
        return out

    def _judge(
        self, rule: RuleSpec, name: str, labels: Mapping[str, str], ts: float, value: float
    ) -> Observation | None:
        self.evaluations += 1
        if rule.is_windowed:
            points = self.windows.add(rule, (name, tuple(sorted(labels.items()))), ts, value)
            if rule.kind == "rate_of_change":
                measured = slope(points, rule.per_s)
            else:
                measured = aggregate(rule.aggregate, points)
            if measured is None:
                return None
            value = measured
        breaching = COMPARE[rule.op](value, rule.value)
        return Observation(rule.name, rule.alert_labels(labels), breaching, value, ts, rule.for_s)


def _epoch(ts: Any) -> float:
    return ts if isinstance(ts, int | float) else ts.timestamp()


def check_observations(rule: RuleSpec, reports: Iterable[CheckReport]) -> list[Observation]:
    """Judge check reports against a ``check_state``/``down`` rule (DOWN counts once hard)."""
    out = []
    for report in reports:
        labels = {**report.labels, "check": report.check, "target": report.target}
        if rule.selector is not None and not rule.selector.matches("", labels):
            continue
        is_down = report.status is CheckStatus.DOWN and report.is_hard
        at = report.at.timestamp()
        value = 1.0 if is_down else 0.0
        out.append(
            Observation(rule.name, rule.alert_labels(labels), is_down, value, at, rule.for_s)
        )
    return out


def absence_observations(
    rule: RuleSpec, last_seen: Mapping[str, tuple[dict[str, str], float]], now: float
) -> list[Observation]:
    """Judge an ``absence`` rule: each series silent for ``for:`` breaches.

    ``last_seen`` maps canonical labels to (labels, newest sample time). When no series
    matches at all, one alert with the selector's equality labels waits ``for:`` and fires.
    """
    assert rule.selector is not None
    if not last_seen:
        labels = {m.label: m.value for m in rule.selector.matchers if m.op == "="}
        return [Observation(rule.name, rule.alert_labels(labels), True, None, now, rule.for_s)]
    return [
        Observation(rule.name, rule.alert_labels(labels), now - ts >= rule.for_s, ts, now, 0.0)
        for labels, ts in last_seen.values()
    ]


def combine(rule: RuleSpec, firing: Mapping[str, Iterable[Mapping[str, str]]], now: float):
    """Judge an ``all``/``any`` rule from the labels of each source rule's firing alerts.

    >>> spec = RuleSpec("both", "all", sources=("a", "b"), on=("target",))
    >>> [o.labels["target"] for o in combine(spec, {"a": [{"target": "x"}], "b": []}, 0.0)]
    []
    """
    keys = [
        {tuple(labels.get(k, "") for k in rule.on) for labels in firing.get(src, ())}
        for src in rule.sources
    ]
    joined = set.intersection(*keys) if rule.kind == "all" else set.union(*keys)
    return [
        Observation(
            rule.name,
            rule.alert_labels(dict(zip(rule.on, key, strict=True))),
            True,
            1.0,
            now,
            rule.for_s,
        )
        for key in sorted(joined)
    ]
