"""Tiers and hysteresis: one rule, warning and critical, each with its own clear line."""

import json

import pytest

from models.config import parse_config
from models.errors import ConfigError
from tasks.alerting import store as repo
from tasks.core.alerting.lifecycle import AlertState
from tests.alerting.helpers import T0, outbox, transitions, write

TIERED = """
rules:
  - name: HotCpu
    series: cpu
    tiers:
      - {severity: warning, value: 80, clear: 75}
      - {severity: critical, value: 95, clear: 90}
channels:
  - {name: hook, url: "json://127.0.0.1:9/x"}
alerting:
  default: {group_wait: 0s, group_interval: 1s}
"""


def firing(engine) -> dict[str, str]:
    with engine.db.connect() as conn:
        rows = repo.load_in_states(conn, [AlertState.FIRING])
    return {r.labels["severity"]: r.labels["host"] for r in rows}


def test_a_series_hovering_at_the_line_fires_once_and_does_not_flap(make_alert_engine):
    engine = make_alert_engine(TIERED)
    for step, value in enumerate([79, 81, 79, 81, 79, 81, 79, 81, 76, 80]):
        write(engine, T0 + 10 * step, [("cpu", {"host": "a"}, float(value))])
    assert transitions(engine) == [("inactive", "firing")]
    assert firing(engine) == {"warning": "a"}
    with engine.db.connect() as conn:
        (row,) = repo.load_in_states(conn, list(AlertState))
    assert row.is_flapping is False


def test_it_clears_only_below_the_clear_line(make_alert_engine):
    engine = make_alert_engine(TIERED)
    write(engine, T0, [("cpu", {"host": "a"}, 85.0)])
    write(engine, T0 + 10, [("cpu", {"host": "a"}, 75.0)])
    assert firing(engine) == {"warning": "a"}
    write(engine, T0 + 20, [("cpu", {"host": "a"}, 74.9)])
    assert firing(engine) == {}
    assert transitions(engine) == [("inactive", "firing"), ("firing", "resolved")]


def test_each_tier_is_its_own_alert_and_critical_mutes_warning(make_alert_engine):
    engine = make_alert_engine(TIERED)
    write(engine, T0, [("cpu", {"host": "a"}, 85.0)])
    engine.sweep(T0 + 1, deliver=False)
    write(engine, T0 + 10, [("cpu", {"host": "a"}, 97.0)])
    write(engine, T0 + 20, [("cpu", {"host": "a"}, 92.0)])
    engine.sweep(T0 + 30, deliver=False)
    assert firing(engine) == {"warning": "a", "critical": "a"}
    with engine.db.connect() as conn:
        by_severity = {
            r.labels["severity"]: r.fingerprint
            for r in repo.load_in_states(conn, [AlertState.FIRING])
        }
    told = [json.loads(m["fingerprints"]) for m in outbox(engine)]
    assert told == [[by_severity["warning"]], [by_severity["critical"]]]
    write(engine, T0 + 40, [("cpu", {"host": "a"}, 89.0)])
    assert firing(engine) == {"warning": "a"}


def test_a_single_threshold_rule_may_have_a_clear_line(make_alert_engine):
    engine = make_alert_engine("rules:\n  - {name: Hot, series: temp, value: 80, clear: 70}\n")
    for step, value in enumerate([85, 75, 81, 72, 69]):
        write(engine, T0 + step, [("temp", {"rack": "1"}, float(value))])
    assert transitions(engine) == [("inactive", "firing"), ("firing", "resolved")]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{name: R, series: x, value: 80, clear: 85}", "clear 85 must be at or below its value 80"),
        ("{name: R, series: x, op: '<', value: 10, clear: 5}", "clear 5 must be at or above"),
        (
            "{name: R, series: x, tiers: [{severity: warning, value: 90}, "
            "{severity: critical, value: 80}]}",
            "tier critical (80) must be further past the line than tier warning (90)",
        ),
        (
            "{name: R, series: x, value: 1, tiers: [{severity: warning, value: 90}]}",
            "with `tiers:`, write severity, value and clear in each tier",
        ),
        (
            "{name: R, series: x, severity: critical, tiers: [{severity: warning, value: 90}]}",
            "with `tiers:`, write severity, value and clear in each tier",
        ),
        ("{name: R, kind: anomaly, series: x, clear: 0.5}", "`tiers:` and `clear:` belong to"),
        ("{name: R, series: x, value: 1, min_history: 1d}", "`min_history:` and `corroborate:`"),
    ],
)
def test_bad_tiers_are_refused_with_their_line(rule, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(f"rules:\n  - {rule}\n", source="v.yaml")
    assert "v.yaml:2: rules[0]" in str(caught.value)
    assert message in str(caught.value)
