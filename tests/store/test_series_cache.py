"""The store's series-id caches stay bounded, and a forgotten series is found again, not doubled."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from models.store import SERIES, MetricStore, NewSample


def test_the_id_caches_stay_bounded_and_forgotten_series_are_found_again(store):
    small = MetricStore(store.engine, cache_series=100)
    for batch in range(10):
        small.write(NewSample("m", {"i": str(batch * 100 + i)}, 1.0, 1.0) for i in range(100))
        assert len(small._ids) <= 100 and len(small._by_identity) <= 100
    again = small.write(NewSample("m", {"i": str(i)}, 2.0, 2.0) for i in range(1000))
    assert again.accepted == 1000 and not again.rejected
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SERIES)).scalar() == 1000
    assert len(small.query_range("m", *(_t(0), _t(3)))) == 2000


def _t(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
