from datetime import UTC, datetime

from tasks.alerting import store as repo
from tasks.core.checks.state import CheckReport, CheckStatus
from tasks.store.batch_hooks import BatchWritten, publish
from tests.alerting.helpers import T0, outbox, write

STORM = """
rules:
  - name: DiskFull
    series: disk_used_ratio
    value: 0.9
channels:
  - name: hook
    url: {url}
routes:
  - match: '{{alertname="DiskFull"}}'
    channels: [hook]
    group_by: [alertname]
    group_wait: 0s
"""


def test_an_alert_storm_of_10000_samples_on_500_targets_sends_one_notification(
    make_alert_engine, webhook, db_url
):
    engine = make_alert_engine(STORM.format(url=webhook.url), url=db_url)
    for batch in range(5):  # a batch holds 4 ticks of all 500 targets: 2,000 samples
        ticks = [T0 + 4 * batch + tick for tick in range(4)]
        samples = [("disk_used_ratio", {"target": f"t{i}"}, 0.95) for i in range(500)]
        write(engine, ticks[-1], [(n, labels, v, at) for at in ticks for n, labels, v in samples])
    engine.sweep(T0 + 30)
    with engine.db.connect() as conn:
        assert len(repo.load_in_states(conn, [repo.AlertState.FIRING])) == 500
    assert len(webhook.received) == 1
    assert webhook.received[0]["title"] == "[FIRING:500] DiskFull on 500 targets"
    assert [m["status"] for m in outbox(engine)] == ["sent"]


SILENCE_INHIBIT = """
targets:
  - name: db
  - name: app
    depends_on: [db]
  - name: web
    depends_on: [app]
rules:
  - name: CpuWarn
    series: cpu
    value: 0.8
    severity: warning
  - name: CpuCrit
    series: cpu
    value: 0.95
    severity: critical
  - name: Down
    kind: check_state
    severity: critical
channels:
  - name: hook
    url: {url}
inhibit_rules:
  - source: '{{severity="critical"}}'
    target: '{{severity="warning"}}'
    equal: [target]
alerting:
  default: {{group_wait: 0s, group_by: ['...']}}
"""


def _names(webhook) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(m["title"] for m in webhook.received)


def test_a_critical_alert_inhibits_the_warning_on_the_same_target(make_alert_engine, webhook):
    engine = make_alert_engine(SILENCE_INHIBIT.format(url=webhook.url))
    write(engine, T0, [("cpu", {"target": "web"}, 0.99), ("cpu", {"target": "app"}, 0.85)])
    engine.sweep(T0 + 1)
    assert _names(webhook) == ["[FIRING:1] CpuCrit on web", "[FIRING:1] CpuWarn on app"]


def test_a_down_parent_inhibits_its_dependents(make_alert_engine, webhook):
    engine = make_alert_engine(SILENCE_INHIBIT.format(url=webhook.url))
    at = datetime.fromtimestamp(T0, UTC)
    report = CheckReport("db-port", "db", CheckStatus.DOWN, True, at, "refused")
    publish(BatchWritten("checks", at, (), [report]), [engine.on_batch])
    write(engine, T0 + 1, [("cpu", {"target": "web"}, 0.99), ("cpu", {"target": "db"}, 0.99)])
    engine.sweep(T0 + 2)
    assert _names(webhook) == ["[FIRING:1] CpuCrit on db", "[FIRING:1] Down on db"]


def test_a_silence_mutes_matching_alerts_until_it_expires(make_alert_engine, webhook):
    engine = make_alert_engine(SILENCE_INHIBIT.format(url=webhook.url))
    with engine.db.begin() as conn:
        silence = repo.add_silence(conn, '{target="web"}', T0, T0 + 600, "ana", "deploy")
    write(engine, T0, [("cpu", {"target": "web"}, 0.99), ("cpu", {"target": "db"}, 0.99)])
    engine.sweep(T0 + 1)
    assert _names(webhook) == ["[FIRING:1] CpuCrit on db"]
    write(engine, T0 + 601, [("cpu", {"target": "web"}, 0.99), ("cpu", {"target": "db"}, 0.99)])
    engine.sweep(T0 + 602)  # the silence expired by itself
    assert _names(webhook) == ["[FIRING:1] CpuCrit on db", "[FIRING:1] CpuCrit on web"]
    with engine.db.begin() as conn:
        assert not repo.expire_silence(conn, silence, T0 + 700, by="ana")
        assert repo.list_silences(conn, T0 + 700) == []


FLAPPY = """
rules:
  - name: Latency
    series: latency_seconds
    value: 1
channels:
  - name: hook
    url: {url}
alerting:
  default: {{group_wait: 0s, group_interval: 0s}}
  flapping: {{window: 2m, high: 50, low: 25, max_changes: 6}}
"""


def test_notifications_are_held_while_an_alert_flaps(make_alert_engine, webhook):
    engine = make_alert_engine(FLAPPY.format(url=webhook.url))
    web = {"target": "web"}
    for step in range(8):  # fires and resolves every 10 s
        write(engine, T0 + 10 * step, [("latency_seconds", web, 2.0 if step % 2 == 0 else 0.1)])
    kinds = [m["kind"] for m in outbox(engine)]
    with engine.db.connect() as conn:
        row = repo.load_in_states(conn, [repo.AlertState.RESOLVED])[0]
    assert row.is_flapping
    assert kinds == ["firing", "resolved"]  # then held: no page per flap
    write(engine, T0 + 80, [("latency_seconds", web, 2.0)])
    assert len(outbox(engine)) == 2
    engine.sweep(T0 + 80 + 121)  # the changes age out of the window: flapping stops
    with engine.db.connect() as conn:
        row = repo.load_in_states(conn, [repo.AlertState.FIRING])[0]
    assert not row.is_flapping
    assert [m["kind"] for m in outbox(engine)] == ["firing", "resolved", "firing"]
