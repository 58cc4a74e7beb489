"""Vigil watches Vigil: built-in rules over its own samples, routed away from a failing
channel; a store outage recorded by the collect run; the dead man's switch."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from models.alerting import Alert
from models.config import parse_config
from models.db import make_engine
from models.errors import ConfigError
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.alerting.subscribe import alerting_on_batches
from tasks.collect.tick import Collection, collect_tick
from tasks.core.collect.backlog import Backlog
from tasks.notify.outbox import OUTBOX, Message, Outbox, enqueue
from tasks.selfwatch.observe import send_heartbeat, store_samples
from tasks.selfwatch.rules import builtin_rules, with_builtin_rules
from tasks.store.batch import store_batch
from tasks.store.batch_hooks import BatchWritten
from tests.alerting.helpers import T0, outbox
from tests.ports import free_port

TWO_CHANNELS = """
channels:
  - {{name: pager, url: "json://127.0.0.1:{closed}/x", breaker: {{failures: 3}}}}
  - {{name: mail, url: "json://127.0.0.1:{closed}/y"}}
alerting:
  default: {{group_wait: 0s, group_by: ['...']}}
"""


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    return url


def alerts(engine: AlertEngine) -> dict[str, str]:
    with engine.db.connect() as conn:
        return dict(conn.execute(select(Alert.rule, Alert.state)).all())  # type: ignore[call-overload]


def test_a_user_rule_of_the_same_name_replaces_the_builtin_and_disabled_adds_none():
    config = parse_config(
        "rules:\n  - {name: VigilOutboxBacklog, series: vigil_outbox_depth, value: 5}\n"
    )
    rules = with_builtin_rules(config.rules, config.self_watch)
    names = [r.name for r in rules]
    assert names.count("VigilOutboxBacklog") == 1 and rules[0].value == 5
    assert len(names) == len(builtin_rules(config.self_watch))
    assert builtin_rules(parse_config("self_watch: {enabled: false}\n").self_watch) == []


def test_a_failing_channel_alerts_the_other_channels_only(sqlite_url):
    config = parse_config(TWO_CHANNELS.format(closed=free_port()))
    db = make_engine(sqlite_url)
    store = MetricStore(db)
    engine = AlertEngine(db, build_plan(config), store=store, emit=None)
    failing = Outbox(db, {c.name: c.url for c in config.channels})
    with db.begin() as conn:
        enqueue(conn, [Message("pager", "firing", "t", "b")], T0)
    for attempt in range(3):  # three failed sends in a row
        failing.deliver_due(T0 + attempt * 700)
    now = datetime.fromtimestamp(T0 + 2000, UTC)
    samples = store_samples(store, config, now)
    by_name = {(s.name, s.labels.get("channel")): s.value for s in samples}
    assert by_name[("vigil_channel_consecutive_failures", "pager")] == 3.0
    assert by_name[("vigil_channel_breaker_state", "pager")] == 2.0  # open
    assert by_name[("vigil_outbox_depth", None)] == 1.0
    assert by_name[("vigil_outbox_oldest_age_seconds", None)] == 2000.0
    store.write(samples)
    engine.on_batch(BatchWritten("self", now, samples))
    assert alerts(engine)["VigilChannelFailing"] == "firing"
    engine.outbox.stop()
    about_pager = [row for row in outbox(engine) if "VigilChannelFailing" in row["title"]]
    assert [row["channel"] for row in about_pager] == ["mail"]  # not to the failing pager
    db.dispose()


def test_a_store_outage_is_recorded_after_it_and_its_alert_fires_and_resolves(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    upgrade(url)
    config = parse_config("collectors: {host: {target: box}}\n")
    away = MetricStore(make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}"))
    good = MetricStore(make_engine(url))
    backlog, start = Backlog(limit=100_000), datetime.now(UTC)
    with httpx.Client() as client, alerting_on_batches(config, url) as engine:
        assert engine is not None
        collection = Collection.from_config(config, client)
        ticks = [(away, 0), (away, 10), (good, 20), (good, 30)]  # the store is down 20 s
        for store, second in ticks:
            now = start + timedelta(seconds=second)
            collect_tick.fn(collection, store, now, now.timestamp(), backlog=backlog)
            if second == 20:
                fired = alerts(engine).get("VigilStoreUnreachable")
        resolved = alerts(engine).get("VigilStoreUnreachable")
    up = good.query_range("vigil_store_up", start - timedelta(seconds=1), start + timedelta(1))
    assert list(up["value"]) == [1.0, 0.0, 0.0, 1.0]  # every tick's, the outage's ones after it
    assert len(backlog) == 0 and backlog.dropped == 0
    assert (fired, resolved) == ("firing", "resolved")
    away.engine.dispose()
    good.engine.dispose()


def test_the_heartbeat_is_queued_once_per_period_to_its_channel(sqlite_url):
    config = parse_config(
        'channels:\n  - {name: deadman, url: "json://127.0.0.1:9/x"}\n'
        "self_watch: {heartbeat: {channel: deadman, every: 5m}}\n"
    )
    db = make_engine(sqlite_url)
    at = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    sent = [send_heartbeat(db, config, at + timedelta(minutes=m)) for m in (0, 1, 4, 5, 6, 10)]
    assert sent == [True, False, False, True, False, True]
    with db.connect() as conn:
        rows = conn.execute(select(OUTBOX.c.channel, OUTBOX.c.kind, OUTBOX.c.body)).all()
    assert [(r.channel, r.kind) for r in rows] == [("deadman", "heartbeat")] * 3
    assert "if none arrives, Vigil or its notification delivery is down" in rows[0].body
    db.dispose()


def test_an_unknown_heartbeat_channel_is_named_in_the_error():
    with pytest.raises(ConfigError, match=r"self_watch.heartbeat.channel.*unknown channel 'x'"):
        parse_config("self_watch: {heartbeat: {channel: x}}\n")


def test_store_batch_source_self_counts_like_any_other(sqlite_url):
    db = make_engine(sqlite_url)
    config = parse_config("{}\n")
    now = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    samples = store_samples(MetricStore(db), config, now)
    assert {s.name for s in samples} == {"vigil_outbox_depth", "vigil_outbox_oldest_age_seconds"}
    assert store_batch(MetricStore(db), samples, source="self", now=now).accepted == 2
    db.dispose()
