"""Vigil's own events counted where they happen, then added to the store's shared counters.

Some events happen when the store cannot take a write (a batch refused, samples
dropped) or outside any transaction (a scrape that failed, a batch's write latency).
They wait here, in the memory of the process that saw them, and ``flush`` adds them
to ``own_counter`` in one transaction at the next chance: every ``/metrics`` of every
Vigil process then shows them. What waits is lost only if the process dies before
the store comes back. Events recorded inside a transaction of their own (checks run,
alerts, notifications) call ``shared_counters.add`` directly instead.
"""

import json
import logging
import threading

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tasks.store import shared_counters
from tasks.store.shared_counters import Increment

log = logging.getLogger(__name__)


class OwnMetrics:
    """Increments this process saw and has not yet added to the store."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Count ``amount`` events of shared counter ``name`` (nothing when 0)."""
        if amount:
            self._hold([(name, labels, float(amount))])

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        """Record one duration of summary ``name``."""
        self._hold(shared_counters.observation(name, labels, seconds))

    def pending(self) -> dict[tuple[str, str], float]:
        """What waits to be flushed: ``{(name, labels JSON): amount}``."""
        with self._lock:
            return dict(self._pending)

    def flush(self, engine: Engine) -> bool:
        """Add what waits to the store in one transaction; keep it if the store refuses."""
        with self._lock:
            taken, self._pending = self._pending, {}
        if not taken:
            return True
        increments = [(name, json.loads(labels), v) for (name, labels), v in taken.items()]
        try:
            with engine.begin() as conn:
                shared_counters.add(conn, increments)
        except SQLAlchemyError as exc:
            log.info("own counters wait for the store (%d kept): %s", len(taken), exc)
            self._hold(increments)
            return False
        return True

    def _hold(self, increments: list[Increment]) -> None:
        for name, labels, amount in increments:
            if not shared_counters.is_known(name):
                raise ValueError(f"unknown shared counter {name!r}; add it to shared_counters")
            key = (name, json.dumps(dict(labels), sort_keys=True))
            with self._lock:
                self._pending[key] = self._pending.get(key, 0.0) + amount


OWN_METRICS = OwnMetrics()
"""The process-wide instance the flows, checks, outbox and push endpoint count into."""
