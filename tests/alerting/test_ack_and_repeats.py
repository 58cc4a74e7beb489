"""Acknowledgement with expiry, unacknowledge, and repeats that slow down as an alert ages."""

from sqlalchemy import select

from models.alerting import AlertEvent
from tasks.alerting import store as repo
from tests.alerting.helpers import T0, outbox, write

HOUR, MINUTE = 3600, 60
PAGED = """
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
    repeat_interval: 1h
    escalation: pager
escalation_policies:
  - name: pager
    levels: [{{after: 15m, channels: [lead]}}]
alerting:
  stale_after: 30d
"""


def _sent(engine) -> list[tuple[str, str, float]]:  # type: ignore[no-untyped-def]
    return [
        (m["channel"], m["kind"], round((repo.to_ts(m["created_at"]) or 0) - T0))
        for m in outbox(engine)
    ]


def _sweep_every_minute(engine, start: float, end: float) -> None:  # type: ignore[no-untyped-def]
    at = start
    while at <= end:
        engine.sweep(T0 + at)
        at += MINUTE


def _fire_and_ack(engine, expires_at: float | None):  # type: ignore[no-untyped-def]
    write(engine, T0, [("api_up", {"target": "api"}, 0.0)])
    with engine.db.begin() as conn:
        return repo.acknowledge(conn, "1", "ana", "on it", T0 + 60, expires_at=expires_at)


def test_an_acknowledgement_stops_repeats_and_escalation_until_it_expires(
    make_alert_engine, webhook
):
    engine = make_alert_engine(PAGED.format(url=webhook.url))
    _fire_and_ack(engine, expires_at=T0 + 2 * HOUR)
    _sweep_every_minute(engine, 1, 2 * HOUR - 1)
    assert _sent(engine) == [("oncall", "firing", 0)]  # no repeat at 1h, no escalation at 15m
    _sweep_every_minute(engine, 2 * HOUR + 1, 2 * HOUR + 20 * MINUTE)
    assert _sent(engine) == [
        ("oncall", "firing", 0),
        ("oncall", "ack_expired", 2 * HOUR + 1),  # re-notified when the ack ran out
        ("lead", "escalation", 2 * HOUR + 15 * MINUTE + 1),  # its clock restarts at expiry
    ]
    assert webhook.titles()[1] == "[ACK EXPIRED] [FIRING:1] ApiDown on api"
    with engine.db.connect() as conn:
        events = conn.execute(select(AlertEvent.kind, AlertEvent.actor)).all()  # type: ignore[call-overload]
    assert [tuple(e) for e in events] == [("acknowledged", "ana"), ("ack_expired", "vigil")]


def test_an_acknowledgement_that_expires_under_a_silence_sends_nothing(make_alert_engine, webhook):
    engine = make_alert_engine(PAGED.format(url=webhook.url))
    _fire_and_ack(engine, expires_at=T0 + HOUR)
    with engine.db.begin() as conn:
        repo.add_silence(conn, '{target="api"}', T0 + 120, T0 + 3 * HOUR, "bo", "migration")
    _sweep_every_minute(engine, 1, 2 * HOUR)
    assert _sent(engine) == [("oncall", "firing", 0)]
    with engine.db.connect() as conn:
        kinds = conn.execute(select(AlertEvent.kind)).scalars().all()  # type: ignore[call-overload]
    assert kinds == ["acknowledged", "ack_expired"]


def test_an_acknowledgement_without_expiry_holds_until_it_is_given_back(make_alert_engine, webhook):
    engine = make_alert_engine(PAGED.format(url=webhook.url))
    _fire_and_ack(engine, expires_at=None)
    _sweep_every_minute(engine, 1, 3 * HOUR)
    assert _sent(engine) == [("oncall", "firing", 0)]
    with engine.db.begin() as conn:
        row = repo.unacknowledge(conn, "1", "ana", T0 + 3 * HOUR + 30)
    assert row is not None and row.ack_by is None
    _sweep_every_minute(engine, 3 * HOUR + MINUTE, 3 * HOUR + 16 * MINUTE)
    assert _sent(engine)[1:] == [
        ("oncall", "repeat", 3 * HOUR + MINUTE),  # the repeat was overdue
        ("lead", "escalation", 3 * HOUR + 16 * MINUTE),  # 15 min after it was given back
    ]


def test_an_alert_acknowledged_before_its_group_spoke_is_still_told_once(
    make_alert_engine, webhook
):
    engine = make_alert_engine(
        PAGED.replace("group_wait: 0s", "group_wait: 2m").format(url=webhook.url)
    )
    _fire_and_ack(engine, expires_at=None)
    _sweep_every_minute(engine, 1, 3 * HOUR)
    assert _sent(engine) == [("oncall", "firing", 2 * MINUTE + 1)]


DECAYING = """
rules:
  - {{name: DiskFull, series: disk, value: 0.9}}
channels:
  - {{name: hook, url: '{url}'}}
alerting:
  default: {{group_wait: 0s, group_interval: 5m, repeat_interval: 1h, repeat_factor: 2,
             repeat_max: 4h}}
  stale_after: 30d
"""


def test_repeats_slow_down_by_their_factor_up_to_their_cap(make_alert_engine, webhook):
    engine = make_alert_engine(DECAYING.format(url=webhook.url))
    write(engine, T0, [("disk", {"target": "db"}, 0.95)])
    at = 0
    while at <= 16 * HOUR:  # a sweep every 5 minutes, for 16 hours
        engine.sweep(T0 + at)
        at += 5 * MINUTE
    repeats = [t for _, kind, t in _sent(engine) if kind == "repeat"]
    assert [t / HOUR for t in repeats] == [1, 3, 7, 11, 15]  # waits of 1h, 2h, 4h, 4h (cap), 4h
    write(engine, T0 + 16 * HOUR + 60, [("disk", {"target": "web"}, 0.95)])  # the group changes
    at = 16 * HOUR + 2 * MINUTE
    while at <= 18 * HOUR + 5 * MINUTE:
        engine.sweep(T0 + at)
        at += 5 * MINUTE
    later = [(kind, t) for _, kind, t in _sent(engine)][len(repeats) + 1 :]
    told = 16 * HOUR + 7 * MINUTE  # at the group's next flush
    assert later == [("firing", told), ("repeat", told + HOUR)]  # the first wait again
