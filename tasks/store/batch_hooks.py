"""The seam right after every write batch (collection, push, checks).

Subscribers (alert evaluation) receive what was just stored, so a breaching sample is
judged in milliseconds instead of on the next schedule tick. A failing subscriber is
logged and the others still run: the write that triggered it has already succeeded.

A process that owns one alert engine (the push server) subscribes it in ``SUBSCRIBERS``.
A flow run subscribes its own with ``subscribed``, which only its thread (and what it hands
work to with the context copied: asyncio tasks, ``asyncio.to_thread``) sees: several flow
runs share `vigil serve` (deployments/in_process.py), and collect's samples must not be
judged again by the engine of a checks run in the next thread.
"""

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from models.store import NewSample
from tasks.core.checks.state import CheckReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchWritten:
    """One stored batch: its source (``collect``, ``push``, ``checks``), when, and what."""

    source: str
    now: datetime
    samples: Sequence[NewSample] = ()
    check_results: Sequence[CheckReport] = field(default=())


Subscriber = Callable[[BatchWritten], None]
SUBSCRIBERS: list[Subscriber] = []  # the whole process's
_RUN_SUBSCRIBERS: ContextVar[tuple[Subscriber, ...]] = ContextVar("run_subscribers", default=())


@contextmanager
def subscribed(subscriber: Subscriber) -> Iterator[None]:
    """Hand ``subscriber`` the batches published in this context (thread, task) inside the block."""
    token = _RUN_SUBSCRIBERS.set((*_RUN_SUBSCRIBERS.get(), subscriber))
    try:
        yield
    finally:
        _RUN_SUBSCRIBERS.reset(token)


def current_subscribers() -> tuple[Subscriber, ...]:
    """The process's subscribers, then those of this context."""
    return (*SUBSCRIBERS, *_RUN_SUBSCRIBERS.get())


def publish(batch: BatchWritten, subscribers: Sequence[Subscriber] | None = None) -> None:
    """Hand ``batch`` to every subscriber (default: ``current_subscribers()``)."""
    for subscriber in current_subscribers() if subscribers is None else subscribers:
        try:
            subscriber(batch)
        except Exception:  # a broken subscriber must not undo or block the write
            log.exception("batch subscriber %r failed on a %s batch", subscriber, batch.source)
