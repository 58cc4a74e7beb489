"""Unit tests of alert rules (``vigil rules test``): input series through the real engine.

Each test case runs in its own scratch store: its input series are written one batch per
instant from a fixed time 0, the engine is swept every ``evaluation_interval``, and at
each ``eval_time`` the firing alerts of ``alertname`` are compared with ``exp_alerts``.
"""

import difflib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from models.config import load_config
from models.config.alerting import alerting_problem
from models.config.loader import Loc, parse_located
from models.config.root import VigilConfig
from models.config.rule_tests import AlertTest, RuleTestCase, RuleTestFile
from models.errors import ConfigError
from models.store import NewSample
from models.vocabulary.durations import format_duration
from models.vocabulary.selectors import parse_selector
from models.vocabulary.series_notation import expand_values
from tasks.alerting.replay import Replay

TIME_ZERO = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


@dataclass
class CaseResult:
    """The outcome of one test case: no failures means it passed."""

    name: str
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LoadedTests:
    """A parsed test file, the config its rules make, and where each key sits."""

    path: Path
    spec: RuleTestFile
    config: VigilConfig
    lines: dict[Loc, int]

    def where(self, *loc: str | int) -> str:
        """``file:line`` of a place in the test file (its nearest known parent)."""
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return f"{self.path}:{self.lines[loc[:n]]}"
        return f"{self.path}:1"


def load_tests(path: Path) -> LoadedTests:
    """Read a rule test file and the rules it names.

    Raises:
        ConfigError: ``file:line: field: message`` for the test file or a rule file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror}") from None
    spec, lines = parse_located(text, RuleTestFile, source=str(path))
    configs = [load_config(path.parent / name) for name in spec.rule_files]
    base = configs[0] if configs else VigilConfig()
    rules = [rule for config in configs for rule in config.rules] + spec.rules
    config = base.model_copy(update={"rules": rules})
    loaded = LoadedTests(path, spec, config, lines)
    problem = alerting_problem(config)
    if problem:
        raise ConfigError(f"{loaded.where('rules')}: {problem[1]}")
    return loaded


def run_tests(loaded: LoadedTests, scratch: Path) -> list[CaseResult]:
    """Run every test case of ``loaded`` (scratch stores go under ``scratch``)."""
    return [
        _run_case(loaded, index, case, scratch / f"case-{index}.db")
        for index, case in enumerate(loaded.spec.tests)
    ]


def _batches(case: RuleTestCase) -> dict[float, list[NewSample]]:
    """The input series as batches by instant (missing values are not written)."""
    out: dict[float, list[NewSample]] = defaultdict(list)
    step = case.interval.total_seconds()
    for series in case.input_series:
        selector = parse_selector(series.series)
        labels = {m.label: m.value for m in selector.matchers}
        for i, value in enumerate(expand_values(series.values)):
            if value is not None:
                at = TIME_ZERO + i * step
                out[at].append(NewSample(selector.name or "", labels, at, value))
    return dict(sorted(out.items()))


def _run_case(loaded: LoadedTests, index: int, case: RuleTestCase, db: Path) -> CaseResult:
    result = CaseResult(case.name or f"tests[{index}]")
    every = loaded.spec.evaluation_interval.total_seconds()
    replay = Replay(loaded.config, db, start=TIME_ZERO, sweep_every_s=every)
    batches = list(_batches(case).items())
    rules = {r.name for r in loaded.config.rules}
    try:
        order = sorted(enumerate(case.alert_rule_test), key=lambda pair: pair[1].eval_time)
        for test_index, test in order:
            where = loaded.where("tests", index, "alert_rule_test", test_index)
            if test.alertname not in rules:
                known = ", ".join(sorted(rules))
                result.failures.append(
                    f"{where}: alertname {test.alertname!r} is not a rule; known: {known}"
                )
                continue
            until = TIME_ZERO + test.eval_time.total_seconds()
            while batches and batches[0][0] <= until:
                at, samples = batches.pop(0)
                replay.feed(at, samples)
            replay.advance(until)
            failure = _compare(test, replay)
            if failure:
                result.failures.append(f"{where}: {failure}")
    finally:
        replay.close()
    return result


def _compare(test: AlertTest, replay: Replay) -> str | None:
    """Return a diff when the firing alerts of the rule differ from the expected ones."""
    wants = any(e.exp_annotations is not None for e in test.exp_alerts)
    got = sorted(
        _show(
            {k: v for k, v in row.labels.items() if k != "alertname"},
            row.annotations if wants else None,
        )
        for row in replay.firing()
        if row.rule == test.alertname
    )
    expected = sorted(
        _show(e.exp_labels, e.exp_annotations or ({} if wants else None)) for e in test.exp_alerts
    )
    if got == expected:
        return None
    diff = difflib.unified_diff(
        expected, got, "expected", "got", lineterm="", n=len(got) + len(expected)
    )
    body = "\n".join(f"    {line}" for line in list(diff)[2:])
    return f"{test.alertname} at {format_duration(test.eval_time)}: firing alerts differ\n{body}"


def _show(labels: dict[str, str], annotations: dict[str, str] | None) -> str:
    text = json.dumps(dict(sorted(labels.items())), ensure_ascii=False)
    if annotations is not None:
        text += " annotations " + json.dumps(dict(sorted(annotations.items())), ensure_ascii=False)
    return text
