import asyncio
import logging
import threading
from datetime import UTC, datetime

from models.store import NewSample
from tasks.store import batch_hooks
from tasks.store.batch_hooks import BatchWritten, publish, subscribed

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


def test_a_run_subscriber_sees_only_the_batches_of_its_own_thread_and_what_it_hands_on(
    monkeypatch,
):
    process_wide: list = []
    monkeypatch.setattr(batch_hooks, "SUBSCRIBERS", [process_wide.append])
    both_subscribed = threading.Barrier(2)
    seen: dict[str, list] = {"collect": [], "checks": []}

    def run(source: str) -> None:
        with subscribed(seen[source].append):
            both_subscribed.wait(timeout=10)
            publish(BatchWritten(source, NOW))
            asyncio.run(asyncio.to_thread(publish, BatchWritten(source, NOW)))  # as checks do
            both_subscribed.wait(timeout=10)
        publish(BatchWritten(source, NOW))  # after the block: the process's subscribers only

    threads = [threading.Thread(target=run, args=(source,)) for source in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert {source: [b.source for b in batches] for source, batches in seen.items()} == {
        "collect": ["collect", "collect"],
        "checks": ["checks", "checks"],
    }
    assert sorted(b.source for b in process_wide) == ["checks"] * 3 + ["collect"] * 3
