"""PostgreSQL stopped while the collect run ticks (a throwaway server, never the shared one).

The ticks are called with a simulated clock, 10 s apart; the server is really stopped for
six of them (60 simulated seconds). Counted: every tick's samples reach the store after the
outage (nothing dropped), the outage is recorded as ``vigil_store_up`` 0, and the built-in
VigilStoreUnreachable alert fires when the backlog lands and resolves on the next tick.

The second test runs a window of checks through the same kind of outage: a ``tcp`` check
of the stopped server itself, every 10 simulated seconds. Counted: one DOWN result per
round of the outage, held while the store is down and stored once it is back; 0 lost.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from models.alerting import Alert
from models.checks import CheckResult
from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting.subscribe import alerting_on_batches
from tasks.checks.context import ProbeContext
from tasks.checks.status_store import current_states
from tasks.checks.store import CheckStore
from tasks.checks.window import CheckWindow
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


@pytest.mark.postgres
@pytest.mark.slow  # stops and starts a PostgreSQL server
def test_checks_of_the_stopped_store_record_every_round_of_the_outage(throwaway_pg):
    upgrade(throwaway_pg.url)
    config = parse_config(f"""
checks:
  - {{name: store-port, type: tcp, target: store, host: 127.0.0.1, port: {throwaway_pg.port},
     max_attempts: 1, interval: 10s}}
""")
    engine = make_engine(throwaway_pg.url)
    recorder = CheckStore(engine, MetricStore(engine))
    outage = OutageClock(throwaway_pg, datetime(2026, 12, 5, 1, 0, tzinfo=UTC))
    summary = asyncio.run(_window(config, recorder, outage, window_s=90))
    with engine.connect() as conn:
        rows = conn.execute(
            select(CheckResult.at, CheckResult.status).order_by(CheckResult.at)
        ).all()  # type: ignore[call-overload]
    up = recorder.store.query_range("check_up", outage.start, outage.start + timedelta(minutes=2))  # type: ignore[union-attr]
    (state,) = current_states(engine)
    engine.dispose()

    seconds = [round((_aware(at) - outage.start).total_seconds()) for at, _ in rows]
    assert seconds == list(range(0, 90, 10))  # one result a round, the outage's included
    down = [s for s, (_, status) in zip(seconds, rows, strict=True) if status == "down"]
    assert down == list(DOWN)  # 6 rounds in the outage: 6 DOWN results stored
    assert list(up["value"]) == [1.0, 0, 0, 0, 0, 0, 0, 1.0, 1.0]  # samples held too
    assert summary.unstored == 0 and recorder.pending.dropped == 0  # lost: nothing
    assert summary.results == {"up": 3, "down": 6}
    assert state.status == "up" and outage.stopped_at == [10.0] and outage.started_at == [70.0]


class OutageClock:
    """A simulated clock; sleeping moves it, and stops or starts the server on the way."""

    def __init__(self, server, start: datetime) -> None:  # type: ignore[no-untyped-def]
        self.server, self.start, self.now = server, start, start
        self.stopped_at: list[float] = []
        self.started_at: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        elapsed = (self.now - self.start).total_seconds()
        if elapsed >= DOWN.start and not self.stopped_at:
            self.server.stop()
            self.stopped_at.append(elapsed)
        if elapsed >= DOWN.stop and not self.started_at:
            self.server.start()
            self.started_at.append(elapsed)


async def _window(config, recorder, clock, *, window_s):  # type: ignore[no-untyped-def]
    ctx = ProbeContext(store=recorder.store)
    window = CheckWindow(config, recorder, ctx, clock=clock, sleep=clock.sleep, tick_s=1.0)
    try:
        return await window.run(window_s)
    finally:
        await ctx.aclose()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _state(db, rule: str) -> str | None:  # type: ignore[no-untyped-def]
    with db.connect() as conn:
        return conn.execute(select(Alert.state).where(Alert.rule == rule)).scalar()  # type: ignore[call-overload, arg-type]
