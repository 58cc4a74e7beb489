"""The seam right after every write batch (collection, push, checks).

Subscribers (alert evaluation) receive what was just stored, so a breaching sample is
judged in milliseconds instead of on the next schedule tick. A failing subscriber is
logged and the others still run: the write that triggered it has already succeeded.
"""

import logging
from collections.abc import Callable, Sequence
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
SUBSCRIBERS: list[Subscriber] = []


def publish(batch: BatchWritten, subscribers: Sequence[Subscriber] | None = None) -> None:
    """Hand ``batch`` to every subscriber (default: the module's SUBSCRIBERS list)."""
    for subscriber in SUBSCRIBERS if subscribers is None else subscribers:
        try:
            subscriber(batch)
        except Exception:  # a broken subscriber must not undo or block the write
            log.exception("batch subscriber %r failed on a %s batch", subscriber, batch.source)
