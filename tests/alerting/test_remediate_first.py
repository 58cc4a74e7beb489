"""Remediate first, verified by the rule clearing; a "fixed automatically" note at low priority."""

from sqlmodel import Session, select

from models.config import parse_config
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun
from tasks.alerting.plan import build_plan
from tasks.recovery.remediation import Remediator
from tests.alerting.helpers import T0, outbox, write

CONFIG = """
rules:
  - name: QueueStuck
    series: queue_depth
    value: 100
    severity: critical
    procedure: kick-worker
    remediate: {{verify_within: 2m, on_fixed: {on_fixed}}}
channels:
  - {{name: pager, url: "{url}/pager"}}
  - {{name: chat, url: "{url}/chat"}}
routes:
  - {{match: '{{severity="critical"}}', channels: [pager], group_wait: 0s}}
  - {{match: '{{severity="info"}}', channels: [chat], group_wait: 0s}}
procedures:
  - name: kick-worker
    steps: [{{type: command, argv: [/bin/true]}}]
    limits: {{cooldown: 0s}}
"""


def _engine(make_alert_engine, webhook, on_fixed: str, url: str | None = None):  # type: ignore[no-untyped-def]
    text = CONFIG.format(url=webhook.url, on_fixed=on_fixed)
    config = parse_config(text)
    engine = make_alert_engine(text, url=url)
    launched: list[RecoveryRun] = []  # the boundary to the served deployment: not run here
    remediator = Remediator(config, engine.db, build_plan(config), launch=launched.append)
    engine.on_firing, engine.on_evaluated = [remediator.on_firing], [remediator.on_evaluated]
    return engine, launched


def test_the_rule_clearing_in_time_verifies_the_fix_and_a_low_priority_note_goes_out(
    make_alert_engine, webhook, db_url
):
    engine, launched = _engine(make_alert_engine, webhook, "notify_low", db_url)
    write(engine, T0, [("queue_depth", {"target": "jobs"}, 500.0)])
    assert [run.procedure for run in launched] == ["kick-worker"]
    engine.sweep(T0 + 60)  # held: the verify window is still open
    assert webhook.received == []
    write(engine, T0 + 90, [("queue_depth", {"target": "jobs"}, 3.0)])  # cleared: fixed
    engine.sweep(T0 + 400)
    assert webhook.paths == ["/alerts/chat"]  # not the pager
    assert webhook.titles() == ["[FIXED automatically] QueueStuck on jobs"]
    assert (
        "Vigil ran kick-worker and the fix was verified 90 s later"
        in webhook.received[0]["message"]
    )
    assert [m["kind"] for m in outbox(engine)] == ["fixed"]
    with Session(engine.db) as session:
        found = session.exec(
            select(RecoveryAudit.detail).where(RecoveryAudit.event == AuditEvent.REMEDIATION)
        ).all()
    assert found == ["fixed: QueueStuck on jobs, verified in time; nothing paged"]


def test_still_breaching_at_the_deadline_pages_once(make_alert_engine, webhook):
    engine, _ = _engine(make_alert_engine, webhook, "silent")
    write(engine, T0, [("queue_depth", {"target": "jobs"}, 500.0)])
    write(engine, T0 + 60, [("queue_depth", {"target": "jobs"}, 400.0)])
    engine.sweep(T0 + 119)
    assert webhook.received == []
    engine.sweep(T0 + 120)  # the verify window closed: the held page goes out
    engine.sweep(T0 + 300)  # still firing: no second page
    assert webhook.paths == ["/alerts/pager"]
    assert webhook.titles() == ["[FIRING:1] QueueStuck on jobs"]


ESCALATING = (
    CONFIG.replace("group_wait: 0s}}\n", "group_wait: 0s, escalation: lead}}\n", 1)
    + """escalation_policies:
  - {{name: lead, levels: [{{after: 5m, channels: [chat]}}]}}
alerting: {{stale_after: 1d}}
"""
)


def test_escalation_counts_from_the_released_page_not_from_the_firing(make_alert_engine, webhook):
    text = ESCALATING.format(url=webhook.url, on_fixed="silent")
    engine = make_alert_engine(text)
    config = parse_config(text)
    remediator = Remediator(config, engine.db, build_plan(config), launch=lambda run: None)
    engine.on_firing, engine.on_evaluated = [remediator.on_firing], [remediator.on_evaluated]
    write(engine, T0, [("queue_depth", {"target": "jobs"}, 500.0)])
    engine.sweep(T0 + 120)  # not fixed in time: the page goes out now
    engine.sweep(T0 + 300)  # 5 min after the firing, 3 after the page: no escalation yet
    assert webhook.paths == ["/alerts/pager"]
    engine.sweep(T0 + 420)
    assert webhook.paths == ["/alerts/pager", "/alerts/chat"]
    assert [m["kind"] for m in outbox(engine)] == ["firing", "escalation"]
