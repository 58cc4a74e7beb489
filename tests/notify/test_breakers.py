"""Channel breakers: a hung and a failing receiver neither slow the healthy one nor lose notices."""

import json
import time

import pytest
from sqlalchemy import select

from models.alerting import ChannelBreaker
from models.db import make_engine
from tasks.alerting.timeline import read_timeline
from tasks.notify.channels import ChannelSpec
from tasks.notify.outbox import Message, Outbox, enqueue
from tasks.store.shared_counters import store_gauges
from tests.alerting.helpers import T0, outbox, write
from tests.notify.receivers import Receiver

THREE_CHANNELS = """
rules:
  - {{name: QueueDeep, series: queue_depth, value: 100}}
channels:
  - {{name: healthy, url: "json://{ok}/alerts", timeout: 1s, breaker: {{failures: 2}}}}
  - {{name: hung, url: "json://{hang}/alerts", timeout: 1s, breaker: {{failures: 2}}}}
  - {{name: broken, url: "json://{error}/alerts", timeout: 1s, breaker: {{failures: 2}}}}
alerting:
  default: {{group_wait: 0s, group_by: ['...']}}
  retry_backoff: 1s
  retry_backoff_max: 1s
"""


def breaker_states(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each channel's stored breaker state (a channel without a row is closed)."""
    table = ChannelBreaker.__table__  # type: ignore[attr-defined]
    with engine.db.connect() as conn:
        stored = dict(conn.execute(select(table.c.channel, table.c.state)).all())
    return dict.fromkeys(("healthy", "hung", "broken"), "closed") | stored


def titles(receiver: Receiver) -> list[str]:
    return [r.json()["title"] for r in receiver.answered]


def test_a_hung_and_a_failing_channel_open_their_breakers_and_get_every_notice_once_in_order(
    make_alert_engine,
):
    ok, hang, error = Receiver().start(), Receiver("hang").start(), Receiver("error").start()
    try:
        yaml = THREE_CHANNELS.format(ok=ok.address, hang=hang.address, error=error.address)
        engine = make_alert_engine(yaml)
        write(engine, T0, [("queue_depth", {"target": "q0"}, 500.0)])
        first = engine.sweep(T0 + 1)
        assert titles(ok) == ["[FIRING:1] QueueDeep on q0"]  # within the first sweep
        assert (first.delivery.sent, first.delivery.retried) == (1, 1)  # the hung one is out
        engine.outbox.drain()  # its try times out; the next sweep reports it

        write(engine, T0 + 2, [("queue_depth", {"target": "q1"}, 500.0)])
        engine.sweep(T0 + 3)  # the second consecutive failure of each broken channel
        engine.outbox.drain()
        assert breaker_states(engine) == {"healthy": "closed", "hung": "open", "broken": "open"}
        (gauge, *_) = store_gauges(engine.db, time.time())
        shown = {s.labels["channel"]: s.value for s in gauge.samples}
        assert shown == {"hung": 2.0, "broken": 2.0}  # healthy has no row: closed
        calls = (hang.calls, error.calls)
        assert calls == (2, 2)  # N tries each
        with engine.db.connect() as conn:  # the alert's timeline says why its notice waits
            _, events = read_timeline(conn, json.loads(outbox(engine)[1]["fingerprints"])[0])
        assert any(e.summary.endswith("; hung's breaker opened after 2 failures") for e in events)

        for i in (2, 3):  # while open, the broken receivers are not called at all
            write(engine, T0 + 2 * i, [("queue_depth", {"target": f"q{i}"}, 500.0)])
            report = engine.sweep(T0 + 2 * i + 1)
            assert (report.delivery.sent, report.delivery.held) == (1, 2)
        assert (hang.calls, error.calls) == calls
        assert len(ok.answered) == 4

        hang.mode = error.mode = "ok"  # both receivers come back
        hang.release()
        engine.sweep(T0 + 60)  # still cooling down: nothing tried
        assert (hang.calls, error.calls) == calls
        engine.sweep(T0 + 3 + 60)  # the half-open probe succeeds; the held notices follow
        engine.sweep(T0 + 3 + 61)
        expected = [f"[FIRING:1] QueueDeep on q{i}" for i in range(4)]
        assert titles(ok) == titles(hang) == titles(error) == expected  # once each, in order
        assert breaker_states(engine) == dict.fromkeys(("healthy", "hung", "broken"), "closed")
        assert [r["status"] for r in outbox(engine)] == ["sent"] * 12
    finally:
        for receiver in (ok, hang, error):
            receiver.stop()


def test_every_process_sees_the_same_breaker(db_url):
    error = Receiver("error").start()
    spec = ChannelSpec(f"json://{error.address}/x", timeout_s=2)
    db = make_engine(db_url)
    first, second = Outbox(db, {"pager": spec}), Outbox(db, {"pager": spec})
    try:
        with db.begin() as conn:
            enqueue(conn, [Message("pager", "firing", f"n{i}", "b") for i in range(3)], T0)
        for at in (T0, T0 + 5, T0 + 15):  # three failures (backing off 5 s, then 10 s)
            first.deliver_due(at)
        assert error.calls == 3
        report = second.deliver_due(T0 + 40)  # another process: the breaker is open there too
        assert (error.calls, report.held) == (3, 1)
        error.mode = "ok"
        second.deliver_due(T0 + 15 + 60)  # after the cool-down, one process probes, then sends
        assert [r.json()["title"] for r in error.answered] == ["n0", "n1", "n2"]
    finally:
        error.stop()
        db.dispose()


HEALTHY_AND_HUNG = """
rules:
  - {{name: QueueDeep, series: queue_depth, value: 100}}
channels:
  - {{name: healthy, url: "json://{ok}/alerts", timeout: 1s}}
  - {{name: hung, url: "json://{hang}/alerts", timeout: 1s, breaker: {{failures: 1000}}}}
alerting:
  default: {{group_wait: 0s, group_by: ['...']}}
  retry_backoff: 1s
  retry_backoff_max: 1s
"""


@pytest.mark.slow
def test_a_hung_channel_never_holds_the_healthy_one_and_gets_its_notices_once_in_order_after(
    make_alert_engine,
):
    ok, hang = Receiver().start(), Receiver("hang").start()
    try:  # the hung channel's breaker never opens here: its flight alone keeps it aside
        engine = make_alert_engine(HEALTHY_AND_HUNG.format(ok=ok.address, hang=hang.address))
        expected: list[str] = []
        while hang.calls < 3 and len(expected) < 60:  # across several of its 1 s timeouts
            at = T0 + 2 * len(expected)
            write(engine, at, [("queue_depth", {"target": f"q{len(expected)}"}, 500.0)])
            engine.sweep(at + 1)
            expected.append(f"[FIRING:1] QueueDeep on q{len(expected)}")
            assert titles(ok) == expected  # delivered within this very sweep, every sweep
            time.sleep(0.1)
        # sweeps went on while its requests hung (waiting on each would allow one per sweep)
        assert hang.calls == 3 and len(expected) > 3
        assert breaker_states(engine)["hung"] == "closed"

        hang.mode = "ok"  # the receiver recovers; the request it held ends unanswered
        hang.release()
        engine.outbox.drain()
        engine.sweep(T0 + 2 * len(expected) + 10)
        engine.outbox.drain()
        assert titles(hang) == expected  # each held notice once, in order
        assert titles(ok) == expected
        assert [r["status"] for r in outbox(engine)] == ["sent"] * 2 * len(expected)
    finally:
        ok.stop()
        hang.stop()
