"""A state is stored at once and told only if it still holds after the rule's notify delay."""

from tests.alerting.helpers import T0, outbox, transitions, write

DELAYED = """
rules:
  - name: Latency
    series: latency_seconds
    value: 1
    notify_delay: {{firing: 2m, resolved: 5m}}
channels:
  - {{name: hook, url: '{url}'}}
alerting:
  default: {{group_wait: 0s, group_interval: 0s}}
  stale_after: 1d
"""
WEB = {"target": "web"}


def _sweep(engine, start: int, end: int) -> None:  # type: ignore[no-untyped-def]
    for at in range(start, end + 1, 10):
        engine.sweep(T0 + at)


def test_a_blip_shorter_than_the_delay_sends_nothing_but_is_stored(make_alert_engine, webhook):
    engine = make_alert_engine(DELAYED.format(url=webhook.url))
    write(engine, T0, [("latency_seconds", WEB, 3.0)])
    _sweep(engine, 1, 60)
    write(engine, T0 + 61, [("latency_seconds", WEB, 0.1)])
    _sweep(engine, 62, 900)
    assert transitions(engine) == [("inactive", "firing"), ("firing", "resolved")]
    assert outbox(engine) == []


def test_firing_and_resolve_are_told_once_each_held_for_its_delay(make_alert_engine, webhook):
    engine = make_alert_engine(DELAYED.format(url=webhook.url))
    write(engine, T0, [("latency_seconds", WEB, 3.0)])
    _sweep(engine, 1, 110)
    assert outbox(engine) == []
    _sweep(engine, 120, 200)
    assert [m["kind"] for m in outbox(engine)] == ["firing"]  # once it held 2 minutes
    write(engine, T0 + 300, [("latency_seconds", WEB, 0.1)])
    _sweep(engine, 301, 500)
    write(engine, T0 + 510, [("latency_seconds", WEB, 3.0)])  # back before the resolve was told
    _sweep(engine, 511, 1000)
    assert [m["kind"] for m in outbox(engine)] == ["firing"]  # no resolve, no second firing
    write(engine, T0 + 1010, [("latency_seconds", WEB, 0.1)])
    _sweep(engine, 1011, 1300)
    assert [m["kind"] for m in outbox(engine)] == ["firing"]
    _sweep(engine, 1310, 1400)
    assert webhook.titles() == ["[FIRING:1] Latency on web", "[RESOLVED] Latency on web"]
    assert transitions(engine) == [  # every change is stored, told or not
        ("inactive", "firing"),
        ("firing", "resolved"),
        ("resolved", "firing"),
        ("firing", "resolved"),
    ]


ESCALATING = """
rules:
  - {{name: Latency, series: latency_seconds, value: 1, notify_delay: {{firing: 10m}}}}
channels:
  - {{name: oncall, url: '{url}/oncall'}}
  - {{name: lead, url: '{url}/lead'}}
routes:
  - {{match: '{{alertname="Latency"}}', channels: [oncall], group_wait: 0s, escalation: up}}
escalation_policies:
  - {{name: up, levels: [{{after: 5m, channels: [lead]}}]}}
alerting:
  stale_after: 1d
"""


def test_escalation_counts_from_the_delayed_first_page(make_alert_engine, webhook):
    engine = make_alert_engine(ESCALATING.format(url=webhook.url))
    write(engine, T0, [("latency_seconds", WEB, 3.0)])
    _sweep(engine, 1, 890)  # the first page at 10 min; its escalation 5 min later
    assert [(m["channel"], m["kind"]) for m in outbox(engine)] == [("oncall", "firing")]
    _sweep(engine, 900, 900)
    assert [(m["channel"], m["kind"]) for m in outbox(engine)] == [
        ("oncall", "firing"),
        ("lead", "escalation"),
    ]
