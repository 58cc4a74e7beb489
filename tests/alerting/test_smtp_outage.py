"""The SMTP receiver down for 10 minutes while alerts fire and resolve (an accelerated clock:
the sweeps are passed the simulated time): every notice arrives once, in order, after it."""

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from models.alerting import DeliveryStatus, Notification
from tests.alerting.helpers import T0, Mailbox, write
from tests.ports import free_port

CONFIG = """
rules:
  - {{name: Down, series: up, op: "<", value: 1, severity: critical}}
channels:
  - {{name: mail, url: "mailto://127.0.0.1:{port}?from=vigil@example.com&to=ops@example.com&mode=insecure"}}
alerting:
  default: {{group_wait: 0s, group_interval: 1m, group_by: ['...']}}
  stale_after: 1d
  retry_backoff: 5s
  retry_backoff_max: 2m
"""
OUTAGE = (30, 630)  # simulated seconds after T0: ten minutes without a receiver
CHANGES = {  # simulated second -> (target, up): fire and resolve during the outage
    0: ("a", 0.0),
    60: ("b", 0.0),
    120: ("a", 1.0),
    300: ("b", 1.0),
    405: ("c", 0.0),
}


def test_every_notice_held_during_a_ten_minute_smtp_outage_arrives_once_in_order(
    make_alert_engine,
):
    box, port = Mailbox(), free_port()
    receiver = Controller(box, hostname="127.0.0.1", port=port)
    receiver.start()
    engine = make_alert_engine(CONFIG.format(port=port))
    try:
        for second in range(0, 1500, 15):  # a sweep every 15 simulated seconds, 25 minutes
            if second == OUTAGE[0]:
                receiver.stop()
            if second == OUTAGE[1]:
                receiver = Controller(box, hostname="127.0.0.1", port=port)
                receiver.start()
            if second in CHANGES:
                target, value = CHANGES[second]
                write(engine, T0 + second, [("up", {"target": target}, value)])
            engine.sweep(T0 + second)
            if second == OUTAGE[0] - 15:
                assert box.subjects() == ["[FIRING:1] Down on a"]  # before the outage
            if second == OUTAGE[1] - 15:
                assert len(box.subjects()) == 1  # nothing got through while it was down
    finally:
        receiver.stop()

    assert box.subjects() == [
        "[FIRING:1] Down on a",
        "[FIRING:1] Down on b",
        "[RESOLVED] Down on a",
        "[RESOLVED] Down on b",
        "[FIRING:1] Down on c",
    ]
    with engine.db.connect() as conn:
        by_status = dict(
            conn.execute(
                select(Notification.status, func.count()).group_by(Notification.status)  # type: ignore[call-overload]
            ).all()
        )
        tries = list(
            conn.execute(
                select(Notification.attempts).order_by(Notification.id)  # type: ignore[call-overload]
            ).scalars()
        )
    assert by_status == {DeliveryStatus.SENT: 5}  # lost: 0; each sent exactly once
    # The first notice of the outage was tried (and failed) until the breaker held it;
    # the ones behind it waited their turn (order is kept) and went out on their first try.
    assert tries[0] == 1 and tries[1] > 1 and tries[2:] == [1, 1, 1]
