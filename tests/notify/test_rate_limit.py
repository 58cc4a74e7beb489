"""A channel's hourly rate limit: N notices, then one summary, then nothing until the hour moves."""

from tasks.store import shared_counters
from tests.alerting.helpers import T0, outbox, write
from tests.notify.receivers import Receiver

STORM = """
rules:
  - {{name: QueueDeep, series: queue_depth, value: 100}}
channels:
  - {{name: sms-storm, url: "json://{address}/sms", kind: sms, rate_limit: 3}}
alerting:
  default: {{group_wait: 0s, group_by: ['...']}}
  dashboard_url: http://vigil.example
"""


def limited(engine) -> float:  # type: ignore[no-untyped-def]
    """The shared count of notices sms-storm's rate limit kept back."""
    counted = shared_counters.read(engine.db).get(shared_counters.NOTIFICATIONS_RATE_LIMITED, {})
    return counted.get('{"channel": "sms-storm"}', 0.0)


def test_a_storm_sends_n_notices_then_one_summary_and_records_the_rest(make_alert_engine):
    receiver = Receiver().start()
    try:
        engine = make_alert_engine(STORM.format(address=receiver.address))
        before = limited(engine)
        for i in range(8):  # eight alerts within the hour
            write(engine, T0 + i, [("queue_depth", {"target": f"q{i}"}, 500.0)])
            engine.sweep(T0 + i + 0.5)
        bodies = [r.json()["message"] for r in receiver.answered]
        assert [b.split(" ")[:3] for b in bodies[:3]] == [
            ["WARN", "QueueDeep", f"q{i}"] for i in range(3)
        ]
        assert bodies[3:] == [
            "Vigil: sms-storm reached its limit of 3 notices an hour; "
            "the rest of this hour is on http://vigil.example/alerts"
        ]
        rows = outbox(engine)
        assert [r["status"] for r in rows if r["kind"] == "firing"] == ["sent"] * 3 + [
            "suppressed"
        ] * 5  # nothing silently lost: each kept-back notice is a row saying why
        assert limited(engine) == before + 5
        write(engine, T0 + 3700, [("queue_depth", {"target": "late"}, 500.0)])
        engine.sweep(T0 + 3700.5)  # the hour has moved on: notices flow again
        assert receiver.answered[-1].json()["message"].startswith("WARN QueueDeep late ")
    finally:
        receiver.stop()
