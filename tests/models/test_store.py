"""The same store tests on a SQLite file and on the real PostgreSQL server."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest

from models.errors import StoreError
from models.metrics import MetricKind
from models.store import INT64_MAX, TS_RANGE_REASON, MetricStore, NewSample

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(minutes: float) -> float:
    return (T0 + timedelta(minutes=minutes)).timestamp()


def test_a_series_is_its_name_and_label_set_in_any_order(store):
    store.write([NewSample("cpu", {"host": "a", "mode": "idle"}, at(0), 1.0)])
    store.write([NewSample("cpu", {"mode": "idle", "host": "a"}, at(1), 2.0)])
    series = store.find_series("cpu")
    assert len(series) == 1
    assert series[0].labels == {"host": "a", "mode": "idle"}


def test_a_fresh_store_finds_series_written_by_another(store):
    from models.store import MetricStore

    store.write([NewSample("mem", {"host": "a"}, at(0), 1.0)])
    other = MetricStore(store.engine)
    other.write([NewSample("mem", {"host": "a"}, at(1), 2.0)])
    assert len(store.find_series("mem")) == 1
    assert list(other.query_range("mem", T0, T0 + timedelta(hours=1))["value"]) == [1.0, 2.0]


def test_range_queries_return_a_dataframe_in_time_order(store):
    store.write(NewSample("load1", {"host": h}, at(m), float(m)) for m in range(10) for h in "ab")
    frame = store.query_range(
        'load1{host="a"}', T0 + timedelta(minutes=2), T0 + timedelta(minutes=5)
    )
    assert list(frame.columns) == ["series_id", "name", "labels", "ts", "value"]
    assert list(frame["value"]) == [2.0, 3.0, 4.0, 5.0]
    assert frame["ts"].iloc[0] == pd.Timestamp(T0 + timedelta(minutes=2))
    assert set(frame["labels"]) == {'{"host":"a"}'}


def test_label_matchers_select_series(store):
    store.write(
        [
            NewSample("disk_used", {"host": "db-1", "mount": "/"}, at(0), 1),
            NewSample("disk_used", {"host": "db-2", "mount": "/var"}, at(0), 2),
            NewSample("disk_used", {"host": "web-1", "mount": "/"}, at(0), 3),
        ]
    )
    found = store.find_series('disk_used{host=~"db-.*", mount!="/var"}')
    assert [s.labels["host"] for s in found] == ["db-1"]
    assert [s.name for s in store.find_series('{__name__=~"disk_.*"}')] == ["disk_used"] * 3


def test_latest_gives_the_newest_value_of_each_series(store):
    store.write(NewSample("up", {"job": j}, at(m), float(m)) for m in range(5) for j in ("x", "y"))
    latest = store.latest("up")
    assert list(latest["value"]) == [4.0, 4.0]
    assert list(latest["ts"]) == [pd.Timestamp(T0 + timedelta(minutes=4))] * 2


def test_points_readers_give_what_the_frames_give_as_plain_values(store):
    store.write(NewSample("up", {"job": j}, at(m), float(m)) for m in range(5) for j in ("x", "y"))
    start, end = T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)
    frame = store.query_range("up", start, end)
    points = store.range_points("up", start, end)
    assert [(p.series_id, p.name, p.labels, p.value) for p in points] == list(
        frame[["series_id", "name", "labels", "value"]].itertuples(index=False, name=None)
    )
    assert [p.ts for p in points] == [ts.timestamp() for ts in frame["ts"]]
    newest = store.latest_points('up{job="y"}')
    assert [(p.labels, p.ts, p.value) for p in newest] == [('{"job":"y"}', at(4), 4.0)]
    assert store.latest_points("absent") == []
    assert store.range_points("absent", start, end) == []


def test_bad_samples_are_refused_with_a_reason_and_the_good_ones_kept(store):
    result = store.write(
        [
            NewSample("ok", {"a": "1"}, at(0), 1.0),
            NewSample("ok", {"a": "1"}, at(1), float("nan")),
            NewSample("bad name", {}, at(0), 1.0),
            NewSample("ok", {"bad-label": "x"}, at(0), 1.0),
            NewSample("ok", {"a": "1"}, at(2), "high"),
            NewSample("ok", {"a": "1"}, datetime(2026, 1, 1), 1.0),
            NewSample("ok", {"a": "2"}, at(0), 1.0, kind="histogramm"),
            NewSample("ok", {"a": "1"}, at(3), 3.0),
        ]
    )
    assert result.accepted == 2
    reasons = {r.index: r.reason for r in result.rejected}
    assert reasons == {
        1: "value is NaN",
        2: "metric name 'bad name' must match [a-zA-Z_:][a-zA-Z0-9_:]*",
        3: "label name 'bad-label' must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __",
        4: "malformed sample: could not convert string to float: 'high'",
        5: "malformed sample: timestamp has no time zone; use an aware datetime (UTC)",
        6: "kind 'histogramm' is not one of gauge, counter",
    }
    assert list(store.query_range("ok", T0, T0 + timedelta(hours=1))["value"]) == [1.0, 3.0]


def test_samples_the_store_cannot_hold_are_refused_alone(store):
    result = store.write(
        [
            NewSample("ok", {}, at(0), 1.0),
            NewSample("ok", {}, (INT64_MAX + 1) / 1000, 1.0),  # beyond a BIGINT
            NewSample("ok", {}, -9.3e15, 1.0),  # -9.3e18 ms
            NewSample("ok", {}, float("inf"), 1.0),
            NewSample("n" * 256, {}, at(0), 1.0),  # beyond VARCHAR(255)
            NewSample("ok", {"big": "v" * 100_000}, at(0), 1.0),  # beyond the index row
            NewSample("ok", {}, at(1), 2.0),
        ]
    )
    assert result.accepted == 2
    reasons = {r.index: r.reason for r in result.rejected}
    assert reasons[1] == reasons[2] == TS_RANGE_REASON
    assert "infinity" in reasons[3]
    assert "at most 255" in reasons[4] and "at most 1024" in reasons[5]
    assert len(store.query_range("ok", T0, T0 + timedelta(hours=1))) == 2


def test_accepted_counts_what_was_stored_and_duplicates_what_was_already_there(store):
    first = store.write([NewSample("x", {}, at(0), v) for v in (1.0, 2.0, 3.0)])
    assert (first.accepted, first.duplicates) == (1, 2)
    again = store.write([NewSample("x", {}, at(0), 4.0), NewSample("x", {}, at(1), 5.0)])
    assert (again.accepted, again.duplicates) == (1, 1)
    assert len(store.query_range("x", T0, T0 + timedelta(hours=1))) == 2


def test_a_failed_write_leaves_no_series_id_behind(store):
    """Series created in a rolled-back write must be created again, not remembered."""

    def rename(table: str, to: str) -> None:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {to}")

    rename("sample", "sample_away")
    with pytest.raises((StoreError, psycopg.errors.UndefinedTable)):  # SQLite, PostgreSQL
        store.write([NewSample("fresh", {"a": "1"}, at(0), 1.0)])
    rename("sample_away", "sample")
    assert store.write([NewSample("fresh", {"a": "1"}, at(1), 2.0)]).accepted == 1
    assert list(store.query_range("fresh", T0, T0 + timedelta(hours=1))["value"]) == [2.0]
    assert list(MetricStore(store.engine).latest("fresh")["value"]) == [2.0]


def test_the_first_value_for_an_instant_wins(store):
    store.write([NewSample("x", {}, at(0), 1.0), NewSample("x", {}, at(0), 2.0)])
    store.write([NewSample("x", {}, at(0), 3.0), NewSample("x", {}, at(1), 4.0)])
    assert list(store.query_range("x", T0, T0 + timedelta(hours=1))["value"]) == [1.0, 4.0]


def test_series_keep_their_kind_and_unit(store):
    store.write([NewSample("net_bytes_total", {}, at(0), 10, MetricKind.COUNTER, "bytes")])
    (series,) = store.find_series("net_bytes_total")
    assert (series.kind, series.unit) == (MetricKind.COUNTER, "bytes")


def test_an_empty_selection_is_an_empty_frame(store):
    frame = store.query_range("absent", T0, T0 + timedelta(hours=1))
    assert frame.empty
    assert list(frame.columns) == ["series_id", "name", "labels", "ts", "value"]
    assert store.latest("absent").empty


@pytest.mark.parametrize("batch", [5000])
def test_a_large_batch_round_trips(store, batch):
    store.write(NewSample("bulk", {"i": str(i % 50)}, at(i // 50), float(i)) for i in range(batch))
    frame = store.query_range("bulk", T0, T0 + timedelta(days=1))
    assert len(frame) == batch
    assert frame["value"].sum() == sum(range(batch))


def test_equality_on_values_with_sql_wildcards_is_exact(store):
    values = ["a_b", "axb", "a%b", "a%%b", 'q"uote', "back\\slash"]
    store.write(NewSample("w", {"v": v}, at(0), 1.0) for v in values)
    for v in values:
        escaped = v.replace("\\", "\\\\").replace('"', '\\"')
        assert [s.labels["v"] for s in store.find_series(f'w{{v="{escaped}"}}')] == [v]
