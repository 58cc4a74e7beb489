"""Alerts posted through the Alertmanager API live Vigil's lifecycle like its own."""

from models.config import parse_config
from tasks.alerting import store as repo
from tasks.core.alerting.external import PostedAlert, observations
from tasks.core.alerting.lifecycle import AlertState, fingerprint
from tasks.recovery.trigger import procedures_for_rule
from tests.alerting.helpers import T0, outbox

CONFIG = """
channels:
  - {{name: hook, url: '{hook}'}}
alerting:
  default: {{group_wait: 0s, group_interval: 1m, group_by: [alertname]}}
  resolve_timeout: 5m
procedures:
  - {{name: drain, triggers: [external/QueueTooDeep], steps: [{{type: command, argv: ['true']}}]}}
"""
ALERT = PostedAlert({"alertname": "QueueTooDeep", "queue": "jobs"}, {"summary": "deep"})


def test_a_firing_external_alert_starts_its_procedure_and_keeps_its_ack_when_re_sent(
    make_alert_engine, webhook
) -> None:
    fired = []
    config = CONFIG.format(hook=webhook.url)
    engine = make_alert_engine(config, on_firing=[fired.append])
    engine.on_external(observations([ALERT], T0), T0)
    [alert] = fired
    assert (alert.rule, alert.labels, alert.annotations) == (
        "external/QueueTooDeep",
        {"alertname": "QueueTooDeep", "queue": "jobs"},
        {"summary": "deep"},
    )
    procedures = parse_config(config).procedures
    assert [p.name for p in procedures_for_rule(procedures, alert.rule)] == ["drain"]
    fp = fingerprint(ALERT.labels)
    with engine.db.begin() as conn:
        repo.acknowledge(conn, fp, "ana", "draining", T0 + 10)
    for minute in range(1, 4):  # Prometheus re-sends it every minute
        at = T0 + 60 * minute
        engine.on_external(observations([ALERT], at), at)
        engine.sweep(at, deliver=False)
    with engine.db.connect() as conn:
        row = repo.load_by_fingerprint(conn, [fp])[fp]
    assert row.lifecycle.state is AlertState.FIRING and row.ack_by == "ana"
    assert len(fired) == 1  # fired once, not at every re-send
    assert [n["kind"] for n in outbox(engine)] == ["firing"]


def test_an_external_alert_with_ends_at_in_the_past_resolves_at_once(make_alert_engine, webhook):
    engine = make_alert_engine(CONFIG.format(hook=webhook.url))
    engine.on_external(observations([ALERT], T0), T0)
    ended = PostedAlert(ALERT.labels, ALERT.annotations, T0 - 5, T0 + 90)
    assert engine.on_external(observations([ended], T0 + 100), T0 + 100) == 1
    engine.sweep(T0 + 120, deliver=False)
    assert [n["kind"] for n in outbox(engine)] == ["firing", "resolved"]
