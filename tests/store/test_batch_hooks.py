import logging
from datetime import UTC, datetime

from models.store import NewSample
from tasks.store.batch_hooks import BatchWritten, publish

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_subscriber_sees_the_batch_even_when_one_fails(caplog):
    seen = []

    def broken(batch):
        raise RuntimeError("boom")

    batch = BatchWritten("collect", NOW, [NewSample("up", {}, NOW.timestamp(), 1.0)])
    with caplog.at_level(logging.ERROR):
        publish(batch, [broken, seen.append])
    assert seen == [batch]
    assert "failed on a collect batch" in caplog.text
