import logging

import pytest

from tasks.alerting.store import to_ts
from tasks.notify.channels import PermanentNotifyError, expand_secrets, send
from tests.alerting.helpers import T0, Webhook, outbox, write

ONE_RULE = """
rules:
  - name: QueueDeep
    series: queue_depth
    value: 100
    annotations: {{summary: "queue at {{{{ value }}}}"}}
channels:
{channels}
alerting:
  default: {{group_wait: 0s}}
  retry_backoff: 5s
  retry_backoff_max: 1m
"""


def test_the_outbox_delivers_after_the_receiver_comes_back_and_loses_nothing(
    make_alert_engine, db_url
):
    hook = Webhook()  # not started: the receiver is down
    engine = make_alert_engine(
        ONE_RULE.format(channels=f"  - name: hook\n    url: {hook.url}"), url=db_url
    )
    for i in range(3):
        write(engine, T0 + i, [("queue_depth", {"target": f"q{i}"}, 500.0)])
        engine.sweep(T0 + i + 0.5)  # evaluation goes on while the notifier is down
    rows = outbox(engine)
    assert [r["status"] for r in rows] == ["pending"]  # one group, still unsent
    assert rows[0]["attempts"] >= 1 and "127.0.0.1" in (rows[0]["last_error"] or "")
    engine.sweep(T0 + 301)  # group_interval: the two newer alerts join a second message
    hook.start()
    try:
        report = engine.sweep(T0 + 400)
        assert report.delivery.sent == 2
        assert [r["status"] for r in outbox(engine)] == ["sent", "sent"]
        told = " ".join(m["message"] for m in hook.received)
        assert all(f"on q{i}" in told for i in range(3))
    finally:
        hook.stop()


def test_failed_attempts_back_off_and_are_recorded(make_alert_engine):
    hook = Webhook()
    engine = make_alert_engine(ONE_RULE.format(channels=f"  - name: hook\n    url: {hook.url}"))
    write(engine, T0, [("queue_depth", {"target": "q"}, 500.0)])
    engine.outbox.deliver_due(T0)
    engine.outbox.deliver_due(T0 + 4)  # not due yet
    engine.outbox.deliver_due(T0 + 5)
    engine.outbox.deliver_due(T0 + 14)  # not due yet (5 s, then 10 s)
    engine.outbox.deliver_due(T0 + 15)
    (row,) = outbox(engine)
    assert row["attempts"] == 3 and row["status"] == "pending"
    assert to_ts(row["next_attempt_at"]) == pytest.approx(T0 + 15 + 20)
    assert row["last_error"] == (  # the third failure in a row opens the channel's breaker
        "A Connection error occurred sending JSON notification to 127.0.0.1.; "
        "hook's breaker opened after 3 failures"
    )


def test_email_reaches_a_real_smtp_server(make_alert_engine, smtp):
    box, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=vigil@example.com&to=ops@example.com&mode=insecure"
    engine = make_alert_engine(ONE_RULE.format(channels=f"  - name: mail\n    url: '{url}'"))
    write(engine, T0, [("queue_depth", {"target": "orders"}, 512.0)])
    engine.sweep(T0 + 1)
    (sender, to, content) = box.messages[0]
    assert (sender, to) == ("vigil@example.com", ["ops@example.com"])
    assert "Subject: [FIRING:1] QueueDeep on orders" in content
    assert "queue at 512.0" in content


def test_secrets_come_from_the_environment_and_never_reach_rows_or_logs(
    make_alert_engine, webhook, monkeypatch, caplog
):
    monkeypatch.setenv("VIGIL_TEST_HOOK_TOKEN", "tok-93x")
    url = f"json://127.0.0.1:{webhook.port}/alerts?token=${{VIGIL_TEST_HOOK_TOKEN}}"
    engine = make_alert_engine(ONE_RULE.format(channels=f"  - name: hook\n    url: '{url}'"))
    with caplog.at_level(logging.DEBUG):
        write(engine, T0, [("queue_depth", {"target": "q"}, 500.0)])
        engine.sweep(T0 + 1)
    assert webhook.received
    assert "tok-93x" not in caplog.text
    assert all("tok-93x" not in str(row) for row in outbox(engine))
    assert expand_secrets(url)[1] == ["tok-93x"]


def test_a_missing_secret_is_a_permanent_failure_that_names_the_variable(make_alert_engine):
    url = "json://127.0.0.1:9/x?t=${VIGIL_TEST_UNSET_VAR}"
    engine = make_alert_engine(ONE_RULE.format(channels=f"  - name: hook\n    url: '{url}'"))
    write(engine, T0, [("queue_depth", {"target": "q"}, 500.0)])
    engine.sweep(T0 + 1)
    (row,) = outbox(engine)
    assert row["status"] == "failed"
    assert "VIGIL_TEST_UNSET_VAR is not set" in row["last_error"]


def test_a_prefect_secret_block_can_hold_part_of_the_url(webhook):
    blocks = {"hook-token": "blk-77"}
    url = f"json://127.0.0.1:{webhook.port}/alerts?token=${{secret:hook-token}}"
    send(url, "t", "b", read_secret=blocks.__getitem__)
    assert webhook.received[0]["title"] == "t"
    with pytest.raises(PermanentNotifyError, match="not an apprise URL"):
        send("nope://${secret:hook-token}", "t", "b", read_secret=blocks.__getitem__)


def test_vigils_own_channels_need_no_setup_the_inbox_keeps_the_notice_the_log_appends(
    make_alert_engine, db_url, tmp_path
):
    log = tmp_path / "logs" / "notifications.log"
    channels = (
        "  - {name: inbox, url: 'vigil://inbox'}\n"
        f"  - {{name: file, url: 'vigil://log/{log}'}}"  # absolute: vigil://log//tmp/...
    )
    engine = make_alert_engine(ONE_RULE.format(channels=channels), url=db_url)
    write(engine, T0, [("queue_depth", {"target": "q1"}, 500.0)])
    report = engine.sweep(T0 + 0.5)
    assert report.delivery.sent == 2
    rows = outbox(engine)
    delivered = sorted((r["channel"], r["status"]) for r in rows)
    assert delivered == [("file", "sent"), ("inbox", "sent")]
    text = log.read_text()
    assert "QueueDeep" in text and "queue at 500" in text
