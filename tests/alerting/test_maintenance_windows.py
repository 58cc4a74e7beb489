"""Maintenance windows: cron schedules in a time zone (across DST), one-off spans, matchers."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from models.vocabulary.selectors import parse_selector
from tasks.core.alerting.maintenance_windows import MaintenanceSpec, active_windows, maintenance_of
from tasks.core.alerting.muting import MuteScene, SilenceSpec
from tasks.core.recovery.suppression import recovery_suppressed

DB = parse_selector('{target="db"}')
NIGHTLY = MaintenanceSpec(
    "nightly-backup", DB, "Europe/Berlin", schedule="0 2 * * *", duration_s=3600
)


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _span(start: str, end: str) -> tuple[float, float]:
    return _utc(start), _utc(end)


def test_a_nightly_window_follows_local_time_across_the_spring_dst_change():
    # Berlin: CET (+1) until 2026-03-29 02:00, when clocks jump to 03:00 CEST (+2).
    assert NIGHTLY.span_at(_utc("2026-03-28T01:30")) == _span(
        "2026-03-28T01:00", "2026-03-28T02:00"
    )
    # 02:00 does not exist that night: like cron, the window starts right after the jump.
    assert NIGHTLY.span_at(_utc("2026-03-29T00:59")) is None
    assert NIGHTLY.span_at(_utc("2026-03-29T01:00")) == _span(
        "2026-03-29T01:00", "2026-03-29T02:00"
    )
    assert NIGHTLY.span_at(_utc("2026-03-30T00:00")) == _span(
        "2026-03-30T00:00", "2026-03-30T01:00"
    )
    assert NIGHTLY.span_at(_utc("2026-03-30T01:00")) is None  # 03:00 local: over


def test_a_nightly_window_starts_once_on_the_autumn_dst_night():
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:00 local happens twice.
    start = _utc("2026-10-25T00:00")  # the first 02:00 (CEST)
    assert NIGHTLY.span_at(start) == (start, start + 3600)
    assert NIGHTLY.span_at(_utc("2026-10-25T01:30")) is None  # the repeated 02:30: no new start
    assert NIGHTLY.next_span(_utc("2026-10-25T01:30")) == _span(
        "2026-10-26T01:00", "2026-10-26T02:00"
    )


def test_next_span_is_the_current_one_while_active_and_the_next_start_otherwise():
    at = _utc("2026-06-01T12:00")
    assert NIGHTLY.next_span(at) == _span("2026-06-02T00:00", "2026-06-02T01:00")
    assert NIGHTLY.next_span(_utc("2026-06-02T00:30")) == _span(
        "2026-06-02T00:00", "2026-06-02T01:00"
    )


def test_a_one_off_window_covers_its_span_only():
    once = MaintenanceSpec("upgrade", DB, start=100.0, end=200.0)
    assert [once.span_at(t) for t in (99.0, 100.0, 199.9, 200.0)] == [
        None,
        (100.0, 200.0),
        (100.0, 200.0),
        None,
    ]
    assert once.next_span(50.0) == (100.0, 200.0) and once.next_span(300.0) is None


def test_windows_match_labels_with_the_silence_matcher_language():
    regex = MaintenanceSpec("dbs", parse_selector('{target=~"db-.*", env!="prod"}'), start=0, end=9)
    active = active_windows([regex, NIGHTLY], 5.0)
    assert active == [regex]
    assert maintenance_of({"target": "db-7", "env": "dev"}, active) == "dbs"
    assert maintenance_of({"target": "db-7", "env": "prod"}, active) is None


def test_each_suppression_reason_names_its_cause():
    night = _utc("2026-03-28T01:30")
    silence = SilenceSpec(12, DB, night - 60, night + 60)
    window = active_windows([NIGHTLY], night)
    scene = MuteScene([silence], window, {"web": {"db"}}, frozenset({"db"}))
    db, web = {"target": "db"}, {"target": "web"}
    assert recovery_suppressed(db, scene, now=night) == "silenced by #12"
    assert recovery_suppressed(db, replace(scene, silences=[]), now=night) == (
        "maintenance window nightly-backup"
    )
    assert recovery_suppressed(web, replace(scene, windows=[]), now=night) == "parent db DOWN"
    later = night + timedelta(hours=2).total_seconds()
    assert recovery_suppressed(db, replace(scene, windows=[]), now=later) is None
