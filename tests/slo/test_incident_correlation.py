"""Incidents from series that moved together: no ``depends_on`` between the targets.

An hour of real cpu samples is written to the store: web-a and web-b follow one shared
load (a front door both sit behind) and both cross 90 % when it jumps; batch climbs on its
own all hour and crosses 90 % in the same minute. The production alert engine and its
incident hooks (``tasks.alerting.subscribe.reactions``) judge the last minute's batch.
"""

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from models.config import parse_config
from models.db import make_engine
from models.store import MetricStore, NewSample
from tasks.alerting.correlated import many_series_means, series_means
from tasks.alerting.engine import AlertEngine
from tasks.alerting.incidents import incident_alerts, recent_incidents
from tasks.alerting.plan import build_plan
from tasks.alerting.subscribe import reactions
from tasks.core.alerting.correlation import co_movement
from tasks.store.batch_hooks import BatchWritten

SITE = """targets:
  - {name: web-a}
  - {name: web-b}
  - {name: batch}
rules:
  - {name: HighCpu, series: cpu, value: 90, for: 0s}
"""
NOW = float(int(datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()))
MINUTES = 60


def cpu_hour(seed: int = 7) -> dict[str, list[float]]:
    """Per target, a value a minute for the hour up to NOW (the last: the jump)."""
    rng = random.Random(seed)
    load = [0.0]
    for _ in range(MINUTES - 1):
        load.append(max(-20.0, min(20.0, load[-1] + rng.gauss(0, 3))))
    load[-1] = 55.0  # the shared front door is flooded: both cross 90
    climb = [61 + 0.5 * i + rng.gauss(0, 1) for i in range(MINUTES)]  # batch's own work
    climb[-1] = max(climb[-1], 91.0)  # reaching the line in the same minute
    return {
        "web-a": [40 + x + rng.gauss(0, 0.5) for x in load],
        "web-b": [38 + x + rng.gauss(0, 0.5) for x in load],
        "batch": climb,
    }


@pytest.fixture
def site(db_url):  # type: ignore[no-untyped-def]
    config = parse_config(SITE)
    db = make_engine(db_url)
    plan = build_plan(config)
    engine = AlertEngine(db, plan, store=MetricStore(db), emit=None, **reactions(config, db, plan))
    yield config, engine
    engine.outbox.stop()
    db.dispose()


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_targets_whose_cpu_moved_together_share_an_incident_and_the_odd_one_does_not(site, seed):
    config, engine = site
    store = engine.store
    hour = cpu_hour(seed)
    at = [NOW - (MINUTES - 1 - i) * 60 for i in range(MINUTES)]
    history = [
        NewSample("cpu", {"target": t}, at[i], v)
        for t, values in hour.items()
        for i, v in enumerate(values[:-1])
    ]
    assert not store.write(history).rejected
    last = [NewSample("cpu", {"target": t}, NOW, values[-1]) for t, values in hour.items()]
    assert not store.write(last).rejected
    engine.on_batch(BatchWritten("collect", datetime.fromtimestamp(NOW, UTC), last))

    incidents = recent_incidents(
        engine.db, datetime.fromtimestamp(NOW - 60, UTC), datetime.now(UTC)
    )
    assert sorted(i["targets"] for i in incidents) == [["batch"], ["web-a", "web-b"]]
    pair = next(i for i in incidents if len(i["targets"]) == 2)
    members = {
        m["target"]: m["joined_by"] for m in incident_alerts(engine.db, [pair["id"]])[pair["id"]]
    }
    opener = pair["cause"]  # no dependency: the earliest signal; both fired in this batch
    other = "web-b" if opener == "web-a" else "web-a"
    assert members[opener] == "opened it"
    assert members[other].startswith("moved together (r=")

    # the r the tracker judged, recomputed from the store, against the threshold
    with engine.db.connect() as conn:
        means = {
            t: series_means(conn, "HighCpu", {"target": t}, NOW, {"HighCpu": "cpu"}) for t in hour
        }
    threshold = config.alerting.incident_correlation
    assert co_movement(means["web-a"], means["web-b"]) >= threshold
    assert co_movement(means["batch"], means["web-a"]) < threshold
    assert co_movement(means["batch"], means["web-b"]) < threshold
    assert members[other] == f"moved together (r={co_movement(means['web-a'], means['web-b']):.2f})"


def test_without_correlation_each_unrelated_target_opens_its_own_incident(sqlite_url):
    config = parse_config(SITE + "alerting: {incident_correlation: null}\n")
    db = make_engine(sqlite_url)
    plan = build_plan(config)
    engine = AlertEngine(db, plan, store=MetricStore(db), emit=None, **reactions(config, db, plan))
    try:
        hour = cpu_hour()
        samples = [
            NewSample("cpu", {"target": t}, NOW - (MINUTES - 1 - i) * 60, v)
            for t, values in hour.items()
            for i, v in enumerate(values)
        ]
        assert not engine.store.write(samples).rejected
        last = [s for s in samples if s.ts == NOW]
        engine.on_batch(BatchWritten("collect", datetime.fromtimestamp(NOW, UTC), last))
        since = datetime.fromtimestamp(NOW - 60, UTC)
        found = recent_incidents(db, since, datetime.now(UTC))
        assert sorted(i["targets"] for i in found) == [["batch"], ["web-a"], ["web-b"]]
    finally:
        engine.outbox.stop()
        db.dispose()


def test_the_means_of_many_alerts_are_read_in_two_queries_and_equal_one_by_one_reads(db_url):
    """An alert storm compares up to 50 members: their series and samples are read at once."""
    db = make_engine(db_url)
    try:
        hour = cpu_hour()
        samples = [
            NewSample(name, {"target": t}, NOW - (MINUTES - 1 - i) * 60, v + k)
            for k, name in enumerate(("cpu", "load"))
            for t, values in hour.items()
            for i, v in enumerate(values)
        ]
        assert not MetricStore(db).write(samples).rejected
        watched = {"HighCpu": "cpu", "HighLoad": "load"}
        about = [("HighCpu", {"target": t}) for t in hour]
        about += [("HighLoad", {"target": "batch"}), ("CheckDown", {"target": "web-a"})]
        about += [
            ("HighCpu", {"target": "elsewhere"}),
            ("Any", {"metric": "load", "target": "web-b"}),
        ]
        statements = []
        event.listen(db, "before_cursor_execute", lambda *args: statements.append(args[2]))
        with db.connect() as conn:
            together = many_series_means(conn, about, NOW, watched)
            assert len(statements) == 2
            alone = [series_means(conn, rule, labels, NOW, watched) for rule, labels in about]
        assert together == alone
        assert [len(m) for m in together] == [MINUTES] * 4 + [0, 0, MINUTES]
    finally:
        db.dispose()
