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

import gc
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from models.vocabulary.selectors import Selector, label_matcher, parse_selector
from tasks.core.alerting.conditions import COMPARE, Point, aggregate, slope
from tasks.core.alerting.trust import Corroboration
from tasks.core.checks.state import CheckReport, CheckStatus

ANOMALY_SERIES = "vigil_anomaly_score"
FORECAST_SERIES = "vigil_forecast_crossing_seconds"
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
SAMPLE_RULES = ("threshold", "rate_of_change", "anomaly", "forecast")


@dataclass(frozen=True)
class TierSpec:
    """One severity of a rule: it fires at ``value`` and clears only past ``clear``."""

    severity: str
    value: float
    clear: float | None = None  # None: clears as soon as the condition stops holding


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
    tiers: tuple[TierSpec, ...] = ()  # one alert per tier, by its severity label
    min_history_s: float = 0.0  # anomaly/forecast: the watched series' age before firing
    corroborate: Corroboration | None = None

    is_windowed: bool = field(init=False)  # needs more than the newest sample

    def __post_init__(self) -> None:
        is_windowed = self.kind == "rate_of_change" or self.aggregate != "last"
        object.__setattr__(self, "is_windowed", is_windowed)

    def alert_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels of this rule's alert about ``labels``: series, rule, name, severity."""
        return {**labels, **self.labels, "alertname": self.name}

    def conditions(self, labels: Mapping[str, str]) -> list[tuple[dict[str, str], Any, float]]:
        """(alert labels, comparison, threshold) of each alert this rule keeps about ``labels``.

        >>> tiers = (TierSpec("warning", 80), TierSpec("critical", 95))
        >>> spec = RuleSpec("Cpu", "threshold", tiers=tiers)
        >>> [(a["severity"], v) for a, _, v in spec.conditions({"host": "a"})]
        [('warning', 80), ('critical', 95)]
        """
        alert = self.alert_labels(labels)
        compare = COMPARE[self.op]
        if not self.tiers:
            return [(alert, compare, self.value)]
        return [({**alert, "severity": t.severity}, compare, t.value) for t in self.tiers]

    def clear_line(self, alert_labels: Mapping[str, str]) -> float | None:
        """The clear line of the tier an alert belongs to (by its severity), or None."""
        severity = alert_labels.get("severity")
        return next((t.clear for t in self.tiers if t.severity == severity), None)


class Observation(NamedTuple):
    """One verdict of one rule about one label set at one instant (shared labels: read only)."""

    rule: str
    labels: dict[str, str]
    is_breaching: bool
    value: float | None
    at: float  # epoch seconds
    for_s: float = 0.0
    is_fresh: bool = True  # False when the sweep re-judges old data as time passes
    annotations: Mapping[str, str] | None = None  # an external alert's own (Alertmanager API)


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
    tiers = tuple(TierSpec(str(t.severity), t.value, t.clear) for t in rule.tiers)
    if not tiers and rule.clear is not None:
        tiers = (TierSpec(str(rule.severity), value, rule.clear),)
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
        tiers=tiers,
        min_history_s=rule.min_history.total_seconds(),
        corroborate=Corroboration.of(rule.corroborate),
    )


def _derived(selector: Selector | None, name: str, extra: dict[str, str]) -> Selector:
    """Select analytics series about the series ``selector`` picks (its name becomes ``metric``)."""
    assert selector is not None and selector.name is not None
    matchers = [label_matcher("metric", "=", selector.name)]
    matchers += [label_matcher(k, "=", v) for k, v in extra.items()]
    return Selector(name, (*selector.matchers, *matchers))


class Window:
    """The recent points of one (rule, series), with a running sum for averages."""

    __slots__ = ("points", "total")

    def __init__(self) -> None:
        self.points: deque[Point] = deque()
        self.total = 0.0

    def add(self, ts: float, value: float, span_s: float) -> None:
        """Append a point (an out-of-order one is dropped) and trim to ``span_s``."""
        points = self.points
        if points and ts <= points[-1][0]:
            return
        points.append((ts, value))
        self.total += value
        oldest = ts - span_s
        while points[0][0] < oldest:
            self.total -= points.popleft()[1]

    def measure(self, rule: "RuleSpec") -> float | None:
        """The rule's aggregate (or slope) over the window."""
        if rule.kind == "rate_of_change":
            return slope(self.points, rule.per_s)
        if rule.aggregate == "avg":
            return self.total / len(self.points) if self.points else None
        return aggregate(rule.aggregate, self.points)


class Windows:
    """The windows of every (rule, series)."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, SeriesKey], Window] = {}

    def get(self, rule: RuleSpec, key: SeriesKey) -> Window:
        """Return (creating it if needed) the window of ``rule`` over series ``key``."""
        window = self._windows.get((rule.name, key))
        if window is None:
            window = self._windows[(rule.name, key)] = Window()
        return window

    def add(self, rule: RuleSpec, key: SeriesKey, ts: float, value: float) -> Window:
        """Append a point to the window of ``rule`` over ``key`` and return the window."""
        window = self.get(rule, key)
        window.add(ts, value, rule.window_s)
        return window


MatchedRule = tuple[RuleSpec, dict[str, str], "Window | None", Callable[..., bool], float]
MATCH_CACHE_SIZE = 200_000


class RuleSet:
    """Sample rules indexed by metric name, so each sample meets only the rules about it.

    Which rules select a series, and the alert labels they give it, are worked out once
    per series and cached: the hot loop is a dict lookup, a comparison and a tuple.
    """

    def __init__(self, rules: Sequence[RuleSpec]) -> None:
        self.rules = {r.name: r for r in rules}
        self.windows = Windows()
        self._by_name: dict[str, list[RuleSpec]] = {}
        self._unnamed: list[RuleSpec] = []
        self._matched: dict[tuple, list[MatchedRule]] = {}  # type: ignore[type-arg]
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
        return [r for r in self.rules.values() if r.kind in SAMPLE_RULES and r.is_windowed]

    def observe(self, samples: Iterable[Any]) -> list[Observation]:
        """Judge every sample (``name, labels, ts, value``) against the rules that select it."""
        # The loop allocates a tuple per judgment and frees nothing: CPython's cyclic GC
        # would rescan the growing heap many times over (it tripled the loop's cost).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._observe(samples)
        finally:
            if was_enabled:
                gc.enable()

    def _observe(self, samples: Iterable[Any]) -> list[Observation]:
        out: list[Observation] = []
        append = out.append
        matched_cache = self._matched
        evaluations = 0
        for sample in samples:
            name, labels = sample[0], sample[1]
            key = (name, tuple(labels.items()))
            matched = matched_cache.get(key)
            if matched is None:
                matched = self._match(name, labels)
                if len(matched_cache) >= MATCH_CACHE_SIZE:
                    matched_cache.clear()
                matched_cache[key] = matched
            if not matched:
                continue
            ts = sample[2] if isinstance(sample[2], int | float) else sample[2].timestamp()
            value = float(sample[3])
            for rule, alert_labels, window, compare, threshold in matched:
                evaluations += 1
                measured: float | None = value
                if window is not None:
                    window.add(ts, value, rule.window_s)  # a second tier adds nothing
                    measured = window.measure(rule)
                    if measured is None:
                        continue
                breaching = compare(measured, threshold)
                append(Observation(rule.name, alert_labels, breaching, measured, ts, rule.for_s))
        self.evaluations += evaluations
        return out

    def _match(self, name: str, labels: Mapping[str, str]) -> list[MatchedRule]:
        rules = [*self._by_name.get(name, ()), *self._unnamed]
        series = (name, tuple(sorted(labels.items())))
        return [
            (rule, alert, self.windows.get(rule, series) if rule.is_windowed else None, cmp, at)
            for rule in rules
            if rule.selector is None or rule.selector.matches(name, labels)
            for alert, cmp, at in rule.conditions(labels)
        ]


def _epoch(ts: Any) -> float:
    return ts if isinstance(ts, int | float) else ts.timestamp()


def check_observations(rule: RuleSpec, reports: Iterable[CheckReport]) -> list[Observation]:
    """Judge check reports against a ``check_state``/``down`` rule (DOWN counts once hard)."""
    out = []
    for report in reports:
        if report.status is CheckStatus.LATE:  # not run: says nothing about the target
            continue
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
