"""PostgreSQL stopped while the collect run ticks (a throwaway server, never the shared one).

The ticks are called with a simulated clock, 10 s apart; the server is really stopped for
six of them (60 simulated seconds). Counted: every tick's samples reach the store after the
outage (nothing dropped), the outage is recorded as ``vigil_store_up`` 0, and the built-in
VigilStoreUnreachable alert fires when the backlog lands and resolves on the next tick.
"""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from models.alerting import Alert
from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting.subscribe import alerting_on_batches
from tasks.collect.tick import Collection, collect_tick
from tasks.core.collect.backlog import Backlog

DOWN = range(10, 70, 10)  # simulated seconds whose ticks find the store stopped


@pytest.mark.postgres
@pytest.mark.slow  # stops and starts a PostgreSQL server
def test_a_minute_without_postgres_loses_no_sample_and_alerts_once_it_is_back(throwaway_pg):
    upgrade(throwaway_pg.url)
    config = parse_config("collectors: {host: {target: box}}\n")
    store = MetricStore(make_engine(throwaway_pg.url))
    backlog, start = Backlog(limit=100_000), datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    stored, states = [], []
    with httpx.Client() as client, alerting_on_batches(config, throwaway_pg.url) as engine:
        assert engine is not None
        collection = Collection.from_config(config, client)
        for second in range(0, 90, 10):
            if second == DOWN.start:
                throwaway_pg.stop()
            if second == DOWN.stop:
                throwaway_pg.start()
            now = start + timedelta(seconds=second)
            tick = collect_tick.fn(collection, store, now, now.timestamp(), backlog=backlog)
            stored.append(tick.stored)
            if second >= DOWN.stop:
                states.append(_state(engine.db, "VigilStoreUnreachable"))
    ticks = store.query_range("vigil_collect_tick", start, start + timedelta(minutes=2))
    up = store.query_range("vigil_store_up", start, start + timedelta(minutes=2))
    store.engine.dispose()

    assert len(ticks) == 9  # every tick's own sample is in the store, the outage's included
    assert [s for s, n in zip(range(0, 90, 10), stored, strict=True) if n == 0] == list(DOWN)
    assert stored[DOWN.stop // 10] > stored[0] * len(DOWN)  # the backlog went with that tick
    assert backlog.dropped == 0 and len(backlog) == 0  # lost: nothing
    assert list(up["value"]) == [1.0, 1.0, 0, 0, 0, 0, 0, 0, 1.0]  # 0 after each failed write
    assert states[0] == "firing" and states[-1] == "resolved"


def _state(db, rule: str) -> str | None:  # type: ignore[no-untyped-def]
    with db.connect() as conn:
        return conn.execute(select(Alert.state).where(Alert.rule == rule)).scalar()  # type: ignore[call-overload, arg-type]
