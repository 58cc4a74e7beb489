"""A scrape target that goes dead opens its breaker: it is skipped at once (up 0, no call)
until a probe after the cool-down finds it back. Real loopback server, real store."""

import httpx
from sqlalchemy import select

from models.config import parse_config
from tasks.alerting.store import to_ts
from tasks.collect.tick import Collection
from tasks.core.resilience.breaker import Breaker
from tasks.store import breakers
from tasks.store.breakers import SCRAPE, StoredBreakers
from tasks.store.shared_counters import store_gauges
from tests.comeback import Comeback

T0 = 1_800_000_000.0


def up_values(samples) -> list[float]:  # type: ignore[no-untyped-def]
    return [s.value for s in samples if s.name == "up"]


def test_a_dead_target_is_skipped_while_its_breaker_is_open_and_probed_after_the_cooldown(store):
    server = Comeback().up()
    config = parse_config(
        "collectors:\n  host: {enabled: false}\n  scrapes:\n"
        f"    - {{job: app, url: 'http://127.0.0.1:{server.port}/metrics', interval: 1s,"
        " breaker: {failures: 2, cooldown: 30s}}\n"
    )
    guard = StoredBreakers(store.engine, SCRAPE)
    name = f"app 127.0.0.1:{server.port}"
    try:
        with httpx.Client() as client:
            collection = Collection.from_config(config, client, breakers=guard)
            assert up_values(collection.collect_due(T0)) == [1.0]
            server.down()
            assert up_values(collection.collect_due(T0 + 1)) == [0.0]  # refused: 1 failure
            assert up_values(collection.collect_due(T0 + 2)) == [0.0]  # 2 failures: opens
            server.up()  # it is back, but the breaker does not know yet
            for second in range(3, 32):
                assert up_values(collection.collect_due(T0 + second)) == [0.0]
            assert server.calls == 1  # skipped for the whole cool-down: never called
            shown = {m.name: m for m in store_gauges(store.engine, T0)}["vigil_breaker_state"]
            assert [(s.labels, s.value) for s in shown.samples] == [
                ({"kind": SCRAPE, "name": name}, 2.0)  # open, on every process's /metrics
            ]
            assert up_values(collection.collect_due(T0 + 32)) == [1.0]  # the probe finds it
            assert server.calls == 2
            assert up_values(collection.collect_due(T0 + 33)) == [1.0]
    finally:
        server.down()
    with store.engine.connect() as conn:
        events = conn.execute(select(breakers.EVENTS).order_by(breakers.EVENTS.c.id)).all()
        assert breakers.load(conn, SCRAPE, name)[0] == Breaker()
    assert [(e.kind, e.name, e.state, e.failures) for e in events] == [
        (SCRAPE, name, "open", 2),
        (SCRAPE, name, "half_open", 2),
        (SCRAPE, name, "closed", 0),
    ]
    assert [to_ts(e.at) for e in events] == [T0 + 2, T0 + 32, T0 + 32]
