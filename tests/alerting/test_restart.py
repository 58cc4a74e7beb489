"""Alert state lives in the store: a new engine (a restart) carries on without re-paging."""

from tasks.alerting import repository as repo
from tests.alerting.helpers import T0, Webhook, outbox, write

MINUTE = 60
PAGED = """
rules:
  - {{name: ApiDown, series: api_up, op: "<", value: 1, severity: critical}}
  - {{name: Slow, series: latency_seconds, value: 1, for: 10m}}
channels:
  - {{name: oncall, url: '{up}/oncall'}}
  - {{name: lead, url: '{down}/lead'}}
routes:
  - match: '{{severity="critical"}}'
    channels: [oncall]
    group_wait: 0s
    group_interval: 1m
    repeat_interval: 4h
    escalation: pager
  - {{match: '{{alertname="Slow"}}', channels: [oncall], group_wait: 0s, group_interval: 1m}}
escalation_policies:
  - name: pager
    levels: [{{after: 15m, channels: [lead]}}]
alerting:
  stale_after: 30d
  retry_backoff: 5s
  retry_backoff_max: 1m
"""


def _sent(engine) -> list[tuple[str, str, str, int]]:  # type: ignore[no-untyped-def]
    return [
        (m["channel"], m["kind"], m["status"], round((repo.to_ts(m["created_at"]) or 0) - T0))
        for m in outbox(engine)
    ]


def test_a_restarted_engine_neither_repages_nor_restarts_pending_alerts(make_alert_engine, webhook):
    lead = Webhook()  # down until after the restart: its escalation waits in the outbox
    config = PAGED.format(up=webhook.url, down=lead.url)
    first = make_alert_engine(config)
    write(first, T0, [("api_up", {"target": "api"}, 0.0)])
    for minute in range(1, 16):
        first.sweep(T0 + minute * MINUTE + 1)
    with first.db.begin() as conn:
        repo.acknowledge(conn, "1", "ana", "on it", T0 + 16 * MINUTE, expires_at=T0 + 60 * MINUTE)
    write(first, T0 + 20 * MINUTE, [("latency_seconds", {"target": "web"}, 3.0)])
    first.sweep(T0 + 20 * MINUTE + 1)
    before = _sent(first)
    assert before == [("oncall", "firing", "sent", 0), ("lead", "escalation", "pending", 901)]
    first.outbox.stop()
    first.db.dispose()  # the process ends

    lead.start()
    try:
        second = make_alert_engine(config)  # the same store, a new engine, as after a restart
        for minute in range(21, 62):
            second.sweep(T0 + minute * MINUTE + 1)
    finally:
        lead.stop()
    with second.db.connect() as conn:
        slow = repo.load_by_fingerprint(conn, [r.fingerprint for r in repo.load_live(conn)])
    (pending_then_firing,) = [r for r in slow.values() if r.rule == "Slow"]
    assert pending_then_firing.lifecycle.active_since == T0 + 20 * MINUTE
    assert _sent(second) == [
        ("oncall", "firing", "sent", 0),  # not paged again
        ("lead", "escalation", "sent", 901),  # delivered once, after the restart
        ("oncall", "firing", "sent", 30 * MINUTE + 1),  # Slow: 10 min after it became pending
        ("oncall", "ack_expired", "sent", 60 * MINUTE + 1),  # the ack's expiry survived too
    ]
    assert [m["title"] for m in lead.received] == ["[ESCALATED] [FIRING:1] ApiDown on api"]
    assert len(webhook.received) == 3
