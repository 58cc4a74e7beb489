from tasks.alerting import store as repo
from tasks.alerting.hooks import FiringAlert
from tests.alerting.helpers import T0, outbox, write

ESCALATING = """
rules:
  - name: ApiDown
    series: api_up
    op: "<"
    value: 1
    severity: critical
    procedure: restart-api
channels:
  - name: oncall
    url: {url}/oncall
  - name: lead
    url: {url}/lead
  - name: cto
    url: {url}/cto
routes:
  - match: '{{severity="critical"}}'
    channels: [oncall]
    group_wait: 0s
    escalation: pager
escalation_policies:
  - name: pager
    levels:
      - after: 15m
        channels: [lead]
      - after: 30m
        channels: [cto]
procedures:
  - {{name: restart-api, steps: [{{type: wait, duration: 1s}}]}}
"""


def _sent_to(engine) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(m["channel"], m["kind"]) for m in outbox(engine)]


def _keep_failing(engine, until: float) -> None:  # type: ignore[no-untyped-def]
    at = T0
    while at <= until:
        write(engine, at, [("api_up", {"target": "api"}, 0.0)])
        at += 60


def test_an_unacknowledged_alert_escalates_level_by_level(make_alert_engine, webhook):
    engine = make_alert_engine(ESCALATING.format(url=webhook.url))
    _keep_failing(engine, T0 + 14 * 60)
    engine.sweep(T0 + 14 * 60 + 1)
    assert _sent_to(engine) == [("oncall", "firing")]
    _keep_failing(engine, T0 + 15 * 60)
    engine.sweep(T0 + 15 * 60 + 1)
    assert _sent_to(engine)[-1] == ("lead", "escalation")
    _keep_failing(engine, T0 + 31 * 60)
    engine.sweep(T0 + 31 * 60 + 1)
    assert _sent_to(engine) == [("oncall", "firing"), ("lead", "escalation"), ("cto", "escalation")]
    assert webhook.titles()[-1] == "[ESCALATED] [FIRING:1] ApiDown on api"


def test_acknowledgement_stops_escalation(make_alert_engine, webhook):
    engine = make_alert_engine(ESCALATING.format(url=webhook.url))
    _keep_failing(engine, T0 + 10 * 60)
    with engine.db.begin() as conn:
        (alert,) = repo.load_in_states(conn, [repo.AlertState.FIRING])
        acked = repo.acknowledge(conn, alert.fingerprint, "ana", "on it", T0 + 600)
    assert acked is not None and acked.ack_by == "ana"
    _keep_failing(engine, T0 + 40 * 60)
    engine.sweep(T0 + 40 * 60 + 1)
    assert _sent_to(engine) == [("oncall", "firing")]
    with engine.db.connect() as conn:
        (alert,) = repo.load_in_states(conn, [repo.AlertState.FIRING])
    assert (alert.ack_by, alert.ack_comment, alert.escalation_level) == ("ana", "on it", 0)


def test_firing_alerts_reach_the_recovery_hook_with_their_procedure(make_alert_engine, webhook):
    told: list[FiringAlert] = []
    engine = make_alert_engine(ESCALATING.format(url=webhook.url), on_firing=[told.append])
    _keep_failing(engine, T0 + 60)
    (alert,) = told
    assert (alert.rule, alert.procedure, alert.labels["target"]) == (
        "ApiDown",
        "restart-api",
        "api",
    )
    assert alert.fired_at == T0 and len(alert.fingerprint) == 16
