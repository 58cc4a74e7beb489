"""Alert state lives in the store: a new engine (a restart) carries on without re-paging."""

import subprocess
import sys
from pathlib import Path

import pytest

from tasks.alerting import store as repo
from tests.alerting import restart_driver
from tests.alerting.helpers import T0, Webhook, outbox

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


def test_a_restarted_engine_neither_repages_nor_restarts_pending_alerts(
    make_alert_engine, webhook, db_url
):
    lead = Webhook()  # down until after the restart: its escalation waits in the outbox
    config = PAGED.format(up=webhook.url, down=lead.url)
    first = make_alert_engine(config, url=db_url)
    restart_driver.before(first)
    before = _sent(first)
    assert before == [("oncall", "firing", "sent", 0), ("lead", "escalation", "pending", 901)]
    first.outbox.stop()
    first.db.dispose()  # the process ends

    lead.start()
    try:
        second = make_alert_engine(config, url=db_url)  # the same store, a new engine
        restart_driver.after(second)
    finally:
        lead.stop()
    _assert_carried_on(second, webhook, lead)


def _assert_carried_on(second, webhook, lead) -> None:  # type: ignore[no-untyped-def]
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


@pytest.mark.slow
def test_a_vigil_process_that_dies_and_starts_again_carries_on_the_same(
    make_alert_engine, sqlite_url, webhook, tmp_path
):
    lead = Webhook()
    config = tmp_path / "vigil.yaml"
    config.write_text(PAGED.format(up=webhook.url, down=lead.url))
    _run_driver(sqlite_url, config, "before")
    lead.start()
    try:
        _run_driver(sqlite_url, config, "after")
    finally:
        lead.stop()
    second = make_alert_engine(config.read_text())  # only to read the store
    _assert_carried_on(second, webhook, lead)


def _run_driver(db_url: str, config: Path, phase: str) -> None:
    root = Path(__file__).resolve().parents[2]
    argv = [sys.executable, "-m", "tests.alerting.restart_driver", db_url, str(config), phase]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
