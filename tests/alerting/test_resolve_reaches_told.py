"""A resolve notice reaches every channel that was told of the firing, whatever muted it since."""

from sqlalchemy import insert, select

from models.db import make_engine
from models.migrate import upgrade
from tasks.alerting import store as repo
from tasks.alerting.store import to_dt
from tests.alerting.helpers import T0, outbox, write

TOLD_TWICE = """
rules:
  - name: CpuWarn
    series: cpu
    value: 0.8
    severity: warning
  - name: CpuCrit
    series: cpu
    value: 0.95
    severity: critical
channels:
  - {{name: mail, url: '{mail}'}}
  - {{name: hook, url: '{hook}'}}
inhibit_rules:
  - source: '{{severity="critical"}}'
    target: '{{severity="warning"}}'
    equal: [target]
alerting:
  default: {{group_wait: 0s, group_interval: 1m, group_by: ['...']}}
  stale_after: 1d
"""


def _config(smtp, webhook) -> str:  # type: ignore[no-untyped-def]
    _, port = smtp
    mail = f"mailto://127.0.0.1:{port}?from=vigil@example.com&to=ops@example.com&mode=insecure"
    return TOLD_TWICE.format(mail=mail, hook=webhook.url)


def test_an_alert_silenced_after_firing_still_sends_its_resolve_by_mail_and_webhook(
    make_alert_engine, smtp, webhook
):
    engine = make_alert_engine(_config(smtp, webhook))
    write(engine, T0, [("cpu", {"target": "web"}, 0.85)])
    engine.sweep(T0 + 1)
    with engine.db.begin() as conn:
        repo.add_silence(conn, '{target="web"}', T0 + 10, T0 + 86400, "ana", "deploy")
    for minute in range(2, 30):  # silenced: no repeat, nothing new
        engine.sweep(T0 + 60 * minute)
    write(engine, T0 + 1800, [("cpu", {"target": "web"}, 0.10)])
    engine.sweep(T0 + 1900)
    expected = ["[FIRING:1] CpuWarn on web", "[RESOLVED] CpuWarn on web"]
    assert smtp[0].subjects() == expected
    assert webhook.titles() == expected


def test_an_alert_put_in_maintenance_after_firing_still_sends_its_resolve(
    make_alert_engine, smtp, webhook
):
    window = (  # 12:05 to 13:00 UTC on T0's day: opens after the alert fired at 12:00
        "maintenance_windows:\n"
        "  - {name: deploy, match: '{target=\"web\"}', start: 2026-03-01 12:05,"
        " end: 2026-03-01 13:00, timezone: UTC}\n"
    )
    engine = make_alert_engine(_config(smtp, webhook) + window)
    write(engine, T0, [("cpu", {"target": "web"}, 0.85)])
    engine.sweep(T0 + 1)
    write(engine, T0 + 600, [("cpu", {"target": "web"}, 0.99)])  # critical, in the window
    for minute in range(11, 30):  # in maintenance: the critical is never told
        engine.sweep(T0 + 60 * minute)
    write(engine, T0 + 1800, [("cpu", {"target": "web"}, 0.10)])  # both resolve in the window
    engine.sweep(T0 + 1900)
    expected = ["[FIRING:1] CpuWarn on web", "[RESOLVED] CpuWarn on web"]
    assert smtp[0].subjects() == expected
    assert webhook.titles() == expected


def test_an_inhibited_alert_still_sends_its_resolve(make_alert_engine, smtp, webhook):
    engine = make_alert_engine(_config(smtp, webhook))
    write(engine, T0, [("cpu", {"target": "db"}, 0.85)])
    engine.sweep(T0 + 1)
    write(engine, T0 + 60, [("cpu", {"target": "db"}, 0.99)])  # critical: the warning is muted
    engine.sweep(T0 + 121)
    write(engine, T0 + 600, [("cpu", {"target": "db"}, 0.10)])  # both clear
    engine.sweep(T0 + 700)
    assert sorted(webhook.titles()) == [
        "[FIRING:1] CpuCrit on db",
        "[FIRING:1] CpuWarn on db",
        "[RESOLVED] CpuCrit on db",
        "[RESOLVED] CpuWarn on db",
    ]
    assert sorted(smtp[0].subjects()) == sorted(webhook.titles())


ONE_RULE = """
rules:
{rules}
channels:
  - {{name: hook, url: '{hook}'}}
alerting:
  default: {{group_wait: 0s, group_interval: 1m}}
  stale_after: 1d
"""
DISK = "  - {name: DiskFull, series: disk, value: 0.9}"


def test_an_alert_whose_rule_left_the_config_resolves_and_says_so(make_alert_engine, webhook):
    before = make_alert_engine(ONE_RULE.format(rules=DISK, hook=webhook.url))
    write(before, T0, [("disk", {"target": "db"}, 0.95)])
    before.sweep(T0 + 1)
    after = make_alert_engine(ONE_RULE.format(rules="  []", hook=webhook.url))  # a restart
    after.sweep(T0 + 61)
    assert webhook.titles() == ["[FIRING:1] DiskFull on db", "[RESOLVED] DiskFull on db"]
    with after.db.connect() as conn:
        assert repo.load_in_states(conn, [repo.AlertState.FIRING]) == []


ESCALATING = """
rules:
  - {{name: ApiDown, series: api_up, op: "<", value: 1, severity: critical}}
channels:
  - {{name: oncall, url: '{url}/oncall'}}
  - {{name: lead, url: '{url}/lead'}}
routes:
  - match: '{{severity="critical"}}'
    channels: [oncall]
    group_wait: 0s
    group_interval: 1m
    escalation: pager
escalation_policies:
  - name: pager
    levels: [{{after: 15m, channels: [lead]}}]
alerting:
  stale_after: 1d
"""


def test_the_levels_an_alert_escalated_to_hear_that_it_resolved(make_alert_engine, webhook):
    engine = make_alert_engine(ESCALATING.format(url=webhook.url))
    write(engine, T0, [("api_up", {"target": "api"}, 0.0)])
    engine.sweep(T0 + 1)
    engine.sweep(T0 + 901)
    write(engine, T0 + 1000, [("api_up", {"target": "api"}, 1.0)])
    engine.sweep(T0 + 1001)
    engine.sweep(T0 + 1100)
    sent = [(m["channel"], m["kind"]) for m in outbox(engine)]
    assert sent == [
        ("oncall", "firing"),
        ("lead", "escalation"),
        ("oncall", "resolved"),
        ("lead", "resolved"),
    ]
    assert webhook.paths.count("/alerts/lead") == 2


def test_alerts_resolved_before_the_upgrade_do_not_all_tell_their_escalation_levels(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0007")
    db = make_engine(url)
    old = {"labels": "{}", "annotations": "{}", "flap_changes": "[]", "is_flapping": False}
    with db.begin() as conn:
        for fp, state in (("f1", "resolved"), ("f2", "firing")):
            values = old | {"fingerprint": fp, "rule": "R", "state": state, "version": 0}
            conn.execute(
                insert(repo.ALERT).values(**values, escalation_level=2, updated_at=to_dt(T0))
            )
    upgrade(url)
    with db.connect() as conn:
        found = conn.execute(select(repo.ALERT.c.fingerprint, repo.ALERT.c.escalation_level))
        levels = {fp: level for fp, level in found}
    db.dispose()
    assert levels == {"f1": 0, "f2": 2}
