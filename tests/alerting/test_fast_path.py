import time
from datetime import UTC, datetime

from models.config import parse_config
from models.store import MetricStore, NewSample
from tasks.alerting.subscribe import start_alerting, stop_alerting
from tasks.store.batch_hooks import SUBSCRIBERS, BatchWritten, publish


def test_a_breach_published_on_the_seam_reaches_the_webhook_without_a_sweep(sqlite_url, webhook):
    config = parse_config(
        "rules:\n  - {name: Hot, series: temp, value: 80}\n"
        f"channels:\n  - {{name: hook, url: '{webhook.url}'}}\n"
        "alerting:\n  default: {group_wait: 0s}\n"
    )
    engine = start_alerting(config, sqlite_url)
    try:
        assert engine.on_batch in SUBSCRIBERS
        now = time.time()
        sample = NewSample("temp", {"target": "rack-1"}, now, 93.0)
        MetricStore(engine.db).write([sample])
        publish(BatchWritten("push", datetime.fromtimestamp(now, UTC), [sample]))
        assert webhook.arrived.wait(10), "the background deliverer sent nothing"
        assert webhook.titles() == ["[FIRING:1] Hot on rack-1"]
    finally:
        stop_alerting(engine)
    assert engine.on_batch not in SUBSCRIBERS
