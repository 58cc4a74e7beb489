from datetime import UTC, datetime, timedelta

import pytest

from models.rollups import delete_older, roll_up
from models.store import NewSample

T0 = datetime(2026, 3, 1, tzinfo=UTC)
END = T0 + timedelta(hours=2)


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


@pytest.fixture
def two_hours(store):
    """cpu{host=a} every 10 s for two hours: value = seconds since T0 (0, 10, …, 7190)."""
    store.write(
        NewSample("cpu", {"host": "a"}, (T0 + timedelta(seconds=s)).timestamp(), float(s))
        for s in range(0, 7200, 10)
    )
    return store


def test_rollups_hold_min_max_avg_count_and_last_per_minute_and_hour(two_hours):
    store = two_hours
    assert roll_up(store.engine, ms(T0), ms(END)) == (120, 2)
    minutes = store.query_range("cpu", T0, END, resolution="1m")
    assert len(minutes) == 120
    first = minutes.iloc[0]
    assert first["ts"] == T0
    assert (first["min"], first["max"], first["value"], first["count"], first["last"]) == (
        0.0,
        50.0,
        25.0,
        6,
        50.0,
    )
    hours = store.query_range("cpu", T0, END, resolution="1h")
    second = hours.iloc[1]
    assert second["ts"] == T0 + timedelta(hours=1)
    assert (second["min"], second["max"], second["count"], second["last"]) == (
        3600.0,
        7190.0,
        360,
        7190.0,
    )
    assert second["value"] == pytest.approx((3600 + 7190) / 2)


def test_recomputing_a_window_is_idempotent_and_completes_a_partial_bucket(store):
    def write(seconds: int, value: float) -> None:
        store.write([NewSample("x", {}, (T0 + timedelta(seconds=seconds)).timestamp(), value)])

    write(0, 1.0)
    roll_up(store.engine, ms(T0), ms(T0 + timedelta(seconds=30)))
    write(40, 9.0)  # arrives after the first rollup of that minute
    roll_up(store.engine, ms(T0 + timedelta(seconds=35)), ms(T0 + timedelta(seconds=45)))
    roll_up(store.engine, ms(T0 + timedelta(seconds=35)), ms(T0 + timedelta(seconds=45)))
    row = store.query_range("x", T0, T0 + timedelta(hours=1), resolution="1m").iloc[0]
    assert (row["count"], row["min"], row["max"], row["last"]) == (2, 1.0, 9.0, 9.0)
    hour = store.query_range("x", T0, T0 + timedelta(hours=1), resolution="1h").iloc[0]
    assert (hour["count"], hour["last"], hour["value"]) == (2, 9.0, 5.0)


def test_automatic_resolution_follows_the_span_and_retention(two_hours):
    store = two_hours
    roll_up(store.engine, ms(T0), ms(END))
    now = END
    recent = store.query_range("cpu", END - timedelta(hours=1), END, resolution=None, now=now)
    assert "min" not in recent.columns and len(recent) == 360
    week = store.query_range("cpu", END - timedelta(days=3), END, resolution=None, now=now)
    assert len(week) == 120 and "count" in week.columns
    year = store.query_range("cpu", END - timedelta(days=90), END, resolution=None, now=now)
    assert len(year) == 2
    later = END + timedelta(days=8)  # raw is past retention: even a short span reads rollups
    old = store.query_range("cpu", T0, T0 + timedelta(hours=1), resolution=None, now=later)
    assert len(old) == 61  # both ends are included, as for raw samples


def test_retention_deletes_only_what_is_older_than_each_cutoff(two_hours):
    store = two_hours
    roll_up(store.engine, ms(T0), ms(END))
    deleted = delete_older(
        store.engine,
        raw_ms=ms(T0 + timedelta(hours=1)),
        minute_ms=ms(T0 + timedelta(minutes=30)),
        hour_ms=ms(T0),
    )
    assert deleted == {"sample": 360, "rollup_1m": 30, "rollup_1h": 0}
    raw = store.query_range("cpu", T0, END)
    assert raw["ts"].min() == T0 + timedelta(hours=1)
    assert len(store.query_range("cpu", T0, END, resolution="1h")) == 2
