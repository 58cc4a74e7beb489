from tests.alerting.helpers import T0, outbox, transitions, write

CPU_RULE = """
rules:
  - name: HighCpu
    series: cpu{{host=~"web.*"}}
    value: 0.9
    for: {for_}
    keep_firing_for: {keep}
    severity: critical
    annotations:
      summary: "{{{{ labels.host }}}} CPU at {{{{ (value * 100) | round }}}} %"
      runbook_url: https://runbooks.example/cpu
channels:
  - name: hook
    url: {url}
alerting:
  default: {{group_wait: 0s}}
  dashboard_url: http://dash.example
"""


def test_a_breach_waits_for_its_pending_time_then_fires_and_resolves_with_notices(
    make_alert_engine, webhook
):
    engine = make_alert_engine(CPU_RULE.format(for_="1m", keep="0s", url=webhook.url))
    web1 = {"host": "web-1"}
    write(engine, T0, [("cpu", web1, 0.95)])
    write(engine, T0 + 30, [("cpu", web1, 0.97)])
    assert outbox(engine) == []
    write(engine, T0 + 60, [("cpu", web1, 0.99)])
    write(engine, T0 + 90, [("cpu", web1, 0.10)])
    engine.sweep(T0 + 91)
    assert transitions(engine) == [
        ("inactive", "pending"),
        ("pending", "firing"),
        ("firing", "resolved"),
    ]
    assert [m["kind"] for m in outbox(engine)] == ["firing"]  # group_interval not over yet
    engine.sweep(T0 + 60 + 300)
    assert [m["kind"] for m in outbox(engine)] == ["firing", "resolved"]
    assert [m["status"] for m in outbox(engine)] == ["sent", "sent"]
    firing, resolved = webhook.received
    assert firing["title"] == "[FIRING:1] HighCpu on web-1"
    assert "web-1 CPU at 99.0 %" in firing["message"]
    assert "runbook: https://runbooks.example/cpu" in firing["message"]
    assert "since 2026-03-01 12:01:00 UTC" in firing["message"]
    assert "http://dash.example/alerts?fingerprint=" in firing["message"]
    assert resolved["title"] == "[RESOLVED] HighCpu on web-1"


def test_a_short_breach_never_fires(make_alert_engine, webhook):
    engine = make_alert_engine(CPU_RULE.format(for_="1m", keep="0s", url=webhook.url))
    write(engine, T0, [("cpu", {"host": "web-1"}, 0.95)])
    write(engine, T0 + 30, [("cpu", {"host": "web-1"}, 0.5)])
    engine.sweep(T0 + 120)
    assert transitions(engine) == [("inactive", "pending"), ("pending", "inactive")]
    assert outbox(engine) == []


def test_keep_firing_for_holds_the_alert_after_it_clears(make_alert_engine, webhook):
    engine = make_alert_engine(CPU_RULE.format(for_="0s", keep="2m", url=webhook.url))
    write(engine, T0, [("cpu", {"host": "web-1"}, 0.95)])
    write(engine, T0 + 10, [("cpu", {"host": "web-1"}, 0.5)])
    engine.sweep(T0 + 60)
    assert transitions(engine) == [("inactive", "firing")]
    engine.sweep(T0 + 131)
    assert transitions(engine) == [("inactive", "firing"), ("firing", "resolved")]


def test_pending_expiry_fires_from_the_sweep_without_new_samples(make_alert_engine, webhook):
    engine = make_alert_engine(CPU_RULE.format(for_="1m", keep="0s", url=webhook.url))
    write(engine, T0, [("cpu", {"host": "web-1"}, 0.95)])
    report = engine.sweep(T0 + 61)
    assert report.transitions == 1 and report.delivery.sent == 1
    assert webhook.titles() == ["[FIRING:1] HighCpu on web-1"]


def test_a_series_that_stops_reporting_goes_stale_and_resolves(make_alert_engine, webhook):
    engine = make_alert_engine(CPU_RULE.format(for_="0s", keep="0s", url=webhook.url))
    write(engine, T0, [("cpu", {"host": "web-1"}, 0.95)])
    engine.sweep(T0 + 300)
    assert transitions(engine)[-1] == ("inactive", "firing")
    engine.sweep(T0 + 400)
    assert transitions(engine)[-1] == ("firing", "resolved")
