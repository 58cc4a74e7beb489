"""The notification outbox: every message is a row first, then delivered with retries.

A failed delivery stays in the table with its error and is retried with exponential
backoff (forever, for transient errors), so a notifier outage neither blocks evaluation
nor loses a message. A row claimed by a deliverer that died is reclaimed after
``CLAIM_TIMEOUT_S`` (delivery is at least once).
"""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from models.alerting import DeliveryStatus, Notification
from models.errors import NotifyError
from models.vocabulary.redact import url_secrets
from tasks.alerting.store import to_dt
from tasks.notify.channels import scrub, send

OUTBOX = Notification.__table__  # type: ignore[attr-defined]
CLAIM_TIMEOUT_S = 300.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One notification to enqueue."""

    channel: str
    kind: str
    title: str
    body: str
    fingerprints: Sequence[str] = ()


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def enqueue(conn: Any, messages: Sequence[Message], now: float) -> None:
    """Add messages to the outbox inside the caller's transaction."""
    if messages:
        conn.execute(
            insert(OUTBOX),
            [
                {
                    "channel": m.channel,
                    "kind": m.kind,
                    "title": m.title,
                    "body": m.body,
                    "fingerprints": json.dumps(list(m.fingerprints)),
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": to_dt(now),
                    "created_at": to_dt(now),
                }
                for m in messages
            ],
        )


def backoff_s(attempts: int, first_s: float, max_s: float) -> float:
    """Delay before the next attempt after ``attempts`` failures.

    >>> [backoff_s(n, 5, 60) for n in (1, 2, 3, 5)]
    [5, 10, 20, 60]
    """
    return min(first_s * 2 ** (attempts - 1), max_s)


class Outbox:
    """Deliver due outbox rows to their channels' apprise URLs."""

    def __init__(
        self,
        db: Engine,
        channel_urls: Mapping[str, str],
        *,
        backoff_first_s: float = 5.0,
        backoff_max_s: float = 600.0,
        sender: Callable[[str, str, str], None] = send,
    ) -> None:
        self.db = db
        self.channel_urls = dict(channel_urls)
        self.backoff = (backoff_first_s, backoff_max_s)
        self.sender = sender
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reclaimed_at = float("-inf")

    def deliver_due(self, now: float, limit: int = 200) -> DeliveryReport:
        """Send every row due at ``now`` (claimed compare-and-set); record each outcome."""
        report = DeliveryReport()
        with self.db.begin() as conn:
            if now - self._reclaimed_at >= CLAIM_TIMEOUT_S / 10:
                self._reclaimed_at = now
                conn.execute(
                    update(OUTBOX)
                    .where(
                        OUTBOX.c.status == DeliveryStatus.SENDING,
                        OUTBOX.c.claimed_at < to_dt(now - CLAIM_TIMEOUT_S),
                    )
                    .values(status=DeliveryStatus.PENDING)
                )
            due = conn.execute(
                select(
                    OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.title, OUTBOX.c.body, OUTBOX.c.attempts
                )
                .where(
                    OUTBOX.c.status == DeliveryStatus.PENDING,
                    OUTBOX.c.next_attempt_at <= to_dt(now),
                )
                .order_by(OUTBOX.c.id)
                .limit(limit)
            ).all()
        for row_id, channel, title, body, attempts in due:
            if self._claim(row_id, now):
                self._deliver(row_id, channel, title, body, attempts, now, report)
        return report

    def _claim(self, row_id: int, now: float) -> bool:
        with self.db.begin() as conn:
            done = conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == row_id, OUTBOX.c.status == DeliveryStatus.PENDING)
                .values(status=DeliveryStatus.SENDING, claimed_at=to_dt(now))
            )
        return done.rowcount == 1

    def _deliver(self, row_id, channel, title, body, attempts, now, report) -> None:  # type: ignore[no-untyped-def]
        values: dict[str, Any] = {"attempts": attempts + 1}
        url = self.channel_urls.get(channel)
        try:
            if url is None:
                raise _Permanent(f"channel {channel!r} is not configured any more")
            self.sender(url, title, body)
        except Exception as exc:  # any failure is stored and retried, its URLs' secrets hidden
            error = scrub(str(exc) or type(exc).__name__, url_secrets(url or ""))
            values["last_error"] = error[:2000]
            if getattr(exc, "is_transient", True):
                delay = backoff_s(attempts + 1, *self.backoff)
                values |= {"status": DeliveryStatus.PENDING, "next_attempt_at": to_dt(now + delay)}
                report.retried += 1
            else:
                values["status"] = DeliveryStatus.FAILED
                report.failed += 1
            log.warning("notification %s to %s not delivered: %s", row_id, channel, error)
        else:
            values |= {"status": DeliveryStatus.SENT, "sent_at": to_dt(time.time())}
            report.sent += 1
        with self.db.begin() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(**values))

    # -- background delivery for the fast path ------------------------------------------

    def start(self, poll_s: float = 1.0) -> None:
        """Deliver in a daemon thread: at once when kicked, else every ``poll_s``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, args=(poll_s,), name="vigil-outbox", daemon=True
            )
            self._thread.start()

    def kick(self) -> None:
        """Ask the background thread to deliver now (no-op when it is not started)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the background thread after its current pass."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._stop.clear()

    def _loop(self, poll_s: float) -> None:
        while not self._stop.is_set():
            self._wake.wait(poll_s)
            self._wake.clear()
            try:
                self.deliver_due(time.time())
            except Exception:  # the store may be briefly unreachable; try again next pass
                log.exception("outbox delivery pass failed")


class _Permanent(NotifyError):
    is_transient = False
