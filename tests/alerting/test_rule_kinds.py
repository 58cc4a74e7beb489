from datetime import UTC, datetime

import pytest

from models.config import parse_config
from tasks.alerting import store as repo
from tasks.alerting.plan import build_plan
from tasks.checks.store import samples_of
from tasks.core.alerting.rules import RuleSet
from tasks.core.checks.machine import Outcome
from tasks.core.checks.round import CheckSpec, resolve
from tasks.core.checks.state import CheckReport, CheckStatus
from tasks.store.batch_hooks import BatchWritten, publish
from tests.alerting.helpers import T0, transitions, write


def _ruleset(yaml_rules: str) -> RuleSet:
    return RuleSet(build_plan(parse_config("rules:\n" + yaml_rules)).rules)


def _verdicts(rules: RuleSet, samples) -> list[tuple[bool, float]]:  # type: ignore[no-untyped-def]
    return [(o.is_breaching, round(o.value, 3)) for o in rules.observe(samples)]


def test_window_aggregates_judge_the_recent_points():
    rules = _ruleset(
        "  - {name: AvgHigh, series: lat, aggregate: avg, window: 1m, value: 2}\n"
        "  - {name: P95High, series: lat, aggregate: p95, window: 1m, value: 5}\n"
        "  - {name: MaxHigh, series: lat, aggregate: max, window: 1m, value: 9}\n"
    )
    first = _verdicts(rules, [("lat", {}, T0, 1.0)])
    assert first == [(False, 1.0), (False, 1.0), (False, 1.0)]
    later = _verdicts(rules, [("lat", {}, T0 + 30, 6.0)])
    assert later == [(True, 3.5), (True, 6.0), (False, 6.0)]
    after_window = _verdicts(rules, [("lat", {}, T0 + 91, 1.0)])  # T0 and T0+30 aged out
    assert after_window == [(False, 1.0), (False, 1.0), (False, 1.0)]


def test_counter_rate_and_rate_of_change():
    rules = _ruleset(
        "  - {name: Errors, series: errors_total, aggregate: rate, window: 5m, value: 1}\n"
        "  - {name: DiskGrowth, kind: rate_of_change, series: disk_used, window: 10m,"
        " per: 1m, value: 0.01}\n"
    )
    rules.observe([("errors_total", {}, T0, 100.0), ("disk_used", {}, T0, 0.5)])
    found = _verdicts(
        rules, [("errors_total", {}, T0 + 60, 220.0), ("disk_used", {}, T0 + 60, 0.52)]
    )
    assert found == [(True, 2.0), (True, 0.02)]


def test_anomaly_and_forecast_rules_read_the_analytics_series():
    rules = _ruleset(
        "  - {name: CpuOdd, kind: anomaly, series: 'cpu{host=\"a\"}', min_score: 0.8}\n"
        "  - {name: DiskSoonFull, kind: forecast, series: disk_used_ratio, threshold: 0.9,"
        " within: 30m}\n"
    )
    found = rules.observe(
        [
            ("vigil_anomaly_score", {"metric": "cpu", "host": "a"}, T0, 0.85),
            ("vigil_anomaly_score", {"metric": "cpu", "host": "b"}, T0, 0.99),
            ("vigil_anomaly_score", {"metric": "mem", "host": "a"}, T0, 0.99),
            (
                "vigil_forecast_crossing_seconds",
                {"metric": "disk_used_ratio", "threshold": "0.9", "target": "db"},
                T0,
                1200.0,
            ),
            (
                "vigil_forecast_crossing_seconds",
                {"metric": "disk_used_ratio", "threshold": "0.8", "target": "db"},
                T0,
                60.0,
            ),
        ]
    )
    assert [
        (o.rule, o.is_breaching, o.labels.get("host", o.labels.get("target"))) for o in found
    ] == [
        ("CpuOdd", True, "a"),
        ("DiskSoonFull", True, "db"),
    ]


CHECKS = """
rules:
  - name: ServiceDown
    kind: check_state
    check: '{{check=~"http-.*"}}'
    for: {for_}
  - name: ServiceFlaps
    kind: check_state
    state: flapping
alerting:
  flapping: {{window: 10m, high: 50, low: 25, max_changes: 4}}
"""


def _report(engine, at: float, status: CheckStatus, is_hard: bool = True) -> None:  # type: ignore[no-untyped-def]
    when = datetime.fromtimestamp(at, UTC)
    report = CheckReport("http-shop", "shop", status, is_hard, when, labels={"team": "web"})
    publish(BatchWritten("checks", when, (), [report]), [engine.on_batch])


def test_a_hard_down_check_fires_and_a_soft_one_does_not(make_alert_engine):
    engine = make_alert_engine(CHECKS.format(for_="0s"))
    _report(engine, T0, CheckStatus.DOWN, is_hard=False)
    assert transitions(engine) == []
    _report(engine, T0 + 10, CheckStatus.DOWN)
    _report(engine, T0 + 20, CheckStatus.UP)
    with engine.db.connect() as conn:
        (alert,) = repo.load_in_states(conn, [repo.AlertState.RESOLVED])
    assert alert.labels == {
        "alertname": "ServiceDown",
        "check": "http-shop",
        "target": "shop",
        "team": "web",
        "severity": "warning",
    }


def test_a_check_that_keeps_changing_state_fires_the_flapping_rule(make_alert_engine):
    engine = make_alert_engine(CHECKS.format(for_="10m"))
    for step in range(4):
        _report(engine, T0 + 60 * step, CheckStatus.DOWN if step % 2 else CheckStatus.UP)
    with engine.db.connect() as conn:
        firing = repo.load_in_states(conn, [repo.AlertState.FIRING])
    assert [a.rule for a in firing] == ["ServiceFlaps"]
    engine.sweep(T0 + 60 * 3 + 601)  # calm for a whole window: it stops flapping
    with engine.db.connect() as conn:
        assert [a.rule for a in repo.load_in_states(conn, [repo.AlertState.RESOLVED])] == [
            "ServiceFlaps"
        ]


def test_a_late_check_report_neither_resolves_nor_flaps_a_check(make_alert_engine):
    engine = make_alert_engine(CHECKS.format(for_="0s"))
    _report(engine, T0, CheckStatus.DOWN)
    for step in range(1, 5):  # Vigil overloaded: the check was not run, the target not asked
        _report(engine, T0 + 60 * step, CheckStatus.LATE, is_hard=False)
    with engine.db.connect() as conn:
        firing = repo.load_in_states(conn, [repo.AlertState.FIRING])
    assert [a.rule for a in firing] == ["ServiceDown"]


LATE_CHECKS_RULE = """
rules:
  - {name: VigilChecksLate, series: checks_late, op: ">", value: 0, severity: critical}
"""


def _late_batch(engine, at: float, late: int) -> None:  # type: ignore[no-untyped-def]
    """A batch as the checks recorder writes it: ``late`` of 3 checks were not started."""
    when = datetime.fromtimestamp(at, UTC)
    specs = [CheckSpec(f"c{i}", "t", 1) for i in range(3)]
    late_run, passed = Outcome(False, "late", is_late=True), Outcome(True, "ok")
    outcomes = {s.name: late_run if i < late else passed for i, s in enumerate(specs)}
    resolved = resolve(specs, {}, outcomes, maintenance={}, now=when)
    publish(BatchWritten("checks", when, samples_of(resolved, [], when)), [engine.on_batch])


def test_the_readme_rule_on_late_checks_fires_while_vigil_is_overloaded(make_alert_engine):
    engine = make_alert_engine(LATE_CHECKS_RULE)
    _late_batch(engine, T0, late=0)
    assert transitions(engine) == []
    _late_batch(engine, T0 + 1, late=2)
    _late_batch(engine, T0 + 2, late=0)  # it keeps up again
    assert [to for _, to in transitions(engine)] == ["firing", "resolved"]


ABSENCE = """
rules:
  - name: NoHeartbeat
    kind: absence
    series: 'heartbeat{job="etl"}'
    for: 5m
"""


def test_a_series_that_stops_reporting_fires_the_absence_rule(make_alert_engine):
    engine = make_alert_engine(ABSENCE)
    write(engine, T0, [("heartbeat", {"job": "etl", "target": "etl-1"}, 1.0)])
    engine.sweep(T0 + 200)
    assert transitions(engine) == []
    engine.sweep(T0 + 301)
    assert transitions(engine) == [("inactive", "firing")]
    write(engine, T0 + 400, [("heartbeat", {"job": "etl", "target": "etl-1"}, 1.0)])
    assert transitions(engine)[-1] == ("firing", "resolved")


def test_an_absence_rule_without_any_series_fires_after_its_duration(make_alert_engine):
    engine = make_alert_engine(ABSENCE)
    engine.sweep(T0)
    engine.sweep(T0 + 301)
    with engine.db.connect() as conn:
        (alert,) = repo.load_in_states(conn, [repo.AlertState.FIRING])
    assert alert.labels["job"] == "etl"


COMBINED = """
rules:
  - {name: CpuHigh, series: cpu, value: 0.9}
  - {name: LatencyHigh, series: latency, value: 1}
  - name: Overloaded
    kind: all
    rules: [CpuHigh, LatencyHigh]
    join_on: [target]
    severity: critical
  - {name: Anything, kind: any, rules: [CpuHigh, LatencyHigh], join_on: [target]}
"""


def test_and_or_combinations_follow_their_rules(make_alert_engine):
    engine = make_alert_engine(COMBINED)
    write(engine, T0, [("cpu", {"target": "a"}, 0.95), ("latency", {"target": "a"}, 0.1)])
    with engine.db.connect() as conn:
        firing = sorted(a.rule for a in repo.load_in_states(conn, [repo.AlertState.FIRING]))
    assert firing == ["Anything", "CpuHigh"]
    write(engine, T0 + 10, [("latency", {"target": "a"}, 3.0)])
    with engine.db.connect() as conn:
        firing = sorted(a.rule for a in repo.load_in_states(conn, [repo.AlertState.FIRING]))
    assert firing == ["Anything", "CpuHigh", "LatencyHigh", "Overloaded"]
    write(engine, T0 + 20, [("cpu", {"target": "a"}, 0.1), ("latency", {"target": "a"}, 0.1)])
    with engine.db.connect() as conn:
        assert repo.load_in_states(conn, [repo.AlertState.FIRING]) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules:\n  - name: A\n    series: cpu\n",
            r"^vigil.yaml:2: rules\[0\]: a threshold rule needs `value:`$",
        ),
        (
            "rules:\n  - name: A\n    series: cpu\n    value: 1\n    for: soon\n",
            r"^vigil.yaml:5: rules\[0\].for: 'soon' is not a duration",
        ),
        (
            "rules:\n  - name: A\n    series: cpu\n    value: 1\n"
            "    annotations:\n      summary: '{{ labels.x'\n",
            r"^vigil.yaml:6: rules\[0\].annotations.summary: bad template",
        ),
        (
            "channels:\n  - {name: a, url: 'json://x'}\nroutes:\n  - match: '{a=\"b\"}'\n"
            "    channels: [pager]\n",
            r"^vigil.yaml:5: routes\[0\].channels: unknown channel 'pager'; known: a$",
        ),
        (
            "inhibit_rules:\n  - source: 'cpu{a=\"b\"}'\n    target: '{a=\"c\"}'\n",
            r"^vigil.yaml:2: inhibit_rules\[0\].source: 'cpu\{a=\"b\"\}' names a metric",
        ),
    ],
)
def test_alerting_config_errors_name_file_line_and_field(text, message):
    from models.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        parse_config(text)


def test_the_docs_alerting_example_is_a_valid_config():
    from pathlib import Path

    section = (Path(__file__).parents[2] / "docs" / "alerting.md").read_text()
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_config(example)
    assert [r.kind for r in config.rules][:3] == ["threshold", "absence", "rate_of_change"]
    own = len(config.channels) if len(config.channels) > 1 else 0  # self-watch routes first
    assert build_plan(config).routes[own].escalation == ((900.0, ("ops-mail",)),)
