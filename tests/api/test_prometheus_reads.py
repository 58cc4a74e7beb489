"""The query API reads raw samples or rollups as ``query_range`` chooses, on both stores."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from models.metrics import MetricKind
from models.rollups import roll_up
from models.store import MetricStore, NewSample
from tasks.api.prometheus import instant_query, range_query

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_a_long_range_reads_minute_rollups_and_rates_use_each_minutes_last_value(
    store: MetricStore,
) -> None:
    start = NOW - timedelta(days=2)
    # A counter rising 6 per minute, sampled every 30 s for the two days; a gauge alternating.
    samples = []
    for i in range(0, 2 * 24 * 120 + 1):
        at = start.timestamp() + 30 * i
        samples.append(NewSample("jobs_total", {"queue": "q"}, at, 3.0 * i, MetricKind.COUNTER))
        samples.append(NewSample("depth", {"queue": "q"}, at, float(i % 2) * 10))
    assert not store.write(samples).rejected
    roll_up(store.engine, int(start.timestamp() * 1000), int(NOW.timestamp() * 1000))
    end = NOW.timestamp() - 3600
    data = range_query(
        store, "rate(jobs_total[5m]) * 60", end - 86_400, end, 3600, now=NOW
    )  # a day: from the 1-minute rollups
    values = {float(v) for _, v in data["result"][0]["values"]}
    assert values == {6.0}  # last values 6 apart each minute: 0.1 per second
    means = range_query(store, "avg_over_time(depth[10m])", end - 86_400, end, 3600, now=NOW)
    assert {v for _, v in means["result"][0]["values"]} == {"5"}  # the minute means are 5


def test_an_instant_query_reads_raw_samples(store: MetricStore) -> None:
    at = NOW.timestamp()
    samples = [NewSample("up", {"job": j}, at - 30, 1.0) for j in ("a", "b")]
    assert not store.write(samples).rejected
    data = instant_query(store, 'count(up{job=~"a|b"}) - 1', at, now=NOW)
    assert data == {"resultType": "vector", "result": [{"metric": {}, "value": [at, "1"]}]}


def test_series_are_narrowed_to_those_with_samples_or_rollups_in_the_window(
    store: MetricStore,
) -> None:
    old_at, new_at = NOW - timedelta(days=2), NOW - timedelta(minutes=10)
    samples = [
        NewSample("disk", {"host": "old"}, old_at.timestamp() + 30 * i, 1.0) for i in range(4)
    ]
    samples.append(NewSample("disk", {"host": "new"}, new_at.timestamp(), 1.0))
    assert not store.write(samples).rejected
    roll_up(store.engine, int(old_at.timestamp() * 1000), int(NOW.timestamp() * 1000))
    with store.engine.begin() as conn:  # raw samples of two days ago expired; rollups stay
        conn.execute(
            text("DELETE FROM sample WHERE ts_ms < :t"),
            {"t": int(NOW.timestamp() * 1000) - 86_400_000},
        )
    both = store.find_series("disk")

    def hosts(start: datetime, end: datetime) -> list[str]:
        return [s.labels["host"] for s in store.with_data_between(both, start, end)]

    assert hosts(NOW - timedelta(hours=1), NOW) == ["new"]
    # After the last old sample (90 s) but within its minute's and hour's buckets.
    assert hosts(old_at + timedelta(seconds=100), old_at + timedelta(hours=1)) == ["old"]
    assert hosts(NOW - timedelta(days=3), NOW) == ["new", "old"]
    assert hosts(NOW + timedelta(minutes=1), NOW + timedelta(hours=1)) == []
