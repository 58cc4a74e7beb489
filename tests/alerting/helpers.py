"""Write samples through the real store and the batch seam, as collection does."""

from datetime import UTC, datetime

from sqlalchemy import select

from models.alerting import AlertTransition, Notification
from models.store import NewSample
from tasks.alerting.engine import AlertEngine
from tasks.batch_hooks import BatchWritten, publish


def write(engine: AlertEngine, at: float, samples: list[tuple[str, dict, float]]) -> None:
    """Store ``samples`` at ``at`` and hand the batch to the engine."""
    assert engine.store is not None
    batch = [NewSample(name, labels, at, value) for name, labels, value in samples]
    result = engine.store.write(batch)
    assert not result.rejected
    publish(BatchWritten("push", datetime.fromtimestamp(at, UTC), batch), [engine.on_batch])


def outbox(engine: AlertEngine) -> list[dict]:
    with engine.db.connect() as conn:
        rows = conn.execute(select(Notification.__table__).order_by(Notification.id))
        return [dict(r._mapping) for r in rows]


def transitions(engine: AlertEngine) -> list[tuple[str, str]]:
    table = AlertTransition.__table__
    with engine.db.connect() as conn:
        rows = conn.execute(select(table.c.from_state, table.c.to_state).order_by(table.c.id))
        return [tuple(r) for r in rows]
