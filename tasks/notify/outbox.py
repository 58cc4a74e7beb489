"""The notification outbox: every message is a row first, then delivered with retries.

A failed delivery stays in the table with its error and is retried with exponential
backoff (forever, for transient errors), so a notifier outage neither blocks evaluation
nor loses a message. Each channel has a circuit breaker (tasks.core.resilience.breaker) and an
optional hourly rate limit (tasks.core.notify.rate_limit). A row claimed by a deliverer that
died is reclaimed after ``CLAIM_TIMEOUT_S`` (delivery is at least once).

Each channel's rows go out in a flight of their own (a daemon thread), at most one flight per
channel at a time, so a hung channel (accepts, never answers) holds only its own flight: a pass
skips a channel whose flight is still out and reports a flight's outcome when it lands.
"""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from models.alerting import DeliveryStatus, Notification
from models.errors import NotifyError
from models.vocabulary.redact import url_secrets
from tasks.alerting.store import to_dt, to_ts
from tasks.core.notify.rate_limit import SUMMARY_KIND, WINDOW_S, Allowance, allowance, summary_for
from tasks.core.resilience.breaker import (
    BreakerParams,
    BreakerState,
    admit,
    record,
)
from tasks.notify.channels import ChannelSpec, deliver, scrub
from tasks.store import breakers, shared_counters
from tasks.store.breakers import CHANNEL
from tasks.store.shared_counters import (
    NOTIFICATIONS_FAILED,
    NOTIFICATIONS_HELD,
    NOTIFICATIONS_RATE_LIMITED,
    NOTIFICATIONS_SENT,
    Increment,
)

OUTBOX = Notification.__table__  # type: ignore[attr-defined]
CLAIM_TIMEOUT_S = 300.0
GRACE_S = 0.2  # a pass leaves a channel stuck this long on one send (once another landed)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One notification to enqueue."""

    channel: str
    kind: str
    title: str
    body: str
    fingerprints: Sequence[str] = ()
    notify_type: str = "info"


@dataclass
class DeliveryReport:
    """What one delivery pass did; ``held`` counts channels skipped by an open breaker."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0

    def add(self, other: "DeliveryReport") -> None:
        """Add another pass's counts to these."""
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.held += other.held


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
                    "notify_type": m.notify_type,
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
    """Deliver due outbox rows to their channels: in order, each channel behind its breaker.

    Channels are delivered side by side, one flight each, so a slow channel costs the others
    nothing; a channel's rows go out in id order, and a failure holds the rows behind it until
    it is retried.
    """

    def __init__(
        self,
        db: Engine,
        channels: Mapping[str, str | ChannelSpec],
        *,
        backoff_first_s: float = 5.0,
        backoff_max_s: float = 600.0,
        sender: Callable[[ChannelSpec, str, str, str], None] = deliver,
        dashboard_url: str = "http://127.0.0.1:8501",
    ) -> None:
        self.db = db
        self.channels = {
            name: spec if isinstance(spec, ChannelSpec) else ChannelSpec(spec)
            for name, spec in channels.items()
        }
        self.backoff = (backoff_first_s, backoff_max_s)
        self.sender = sender
        self.dashboard_url = dashboard_url
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reclaimed_at = float("-inf")
        self._flights: dict[str, _Flight] = {}  # channel -> its sends in flight
        self._flights_lock = threading.Lock()

    def deliver_due(self, now: float, limit: int = 200) -> DeliveryReport:
        """Send every channel's due rows at ``now`` (claimed compare-and-set); record outcomes."""
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
            waiting = conn.execute(
                select(OUTBOX.c.channel)
                .where(
                    OUTBOX.c.status == DeliveryStatus.PENDING,
                    OUTBOX.c.next_attempt_at <= to_dt(now),
                )
                .distinct()
            ).scalars()
            # Only channels this process knows: another process's config may name more, and
            # its notices wait for that process (a removed channel's show as outbox backlog).
            channels = sorted(c for c in waiting if c in self.channels)
            failing = {  # called now although their last call failed: not waited for
                c
                for c, b in breakers.load_all(conn, CHANNEL).items()
                if b.failures and admit(b, now, self._breaker_params(c))[0] != 0
            }
        report = self._landed()  # flights of earlier passes that ended since
        with self._flights_lock:
            started = {c: self._fly(c, now, limit) for c in channels if c not in self._flights}
            self._flights |= started
            others = [f for c, f in self._flights.items() if c not in started]
        _await(started, failing, others)
        report.add(self._landed())
        return report

    def drain(self, timeout_s: float = 60.0) -> None:
        """Wait until no send is in flight (their outcomes go into the next pass's report)."""
        with self._flights_lock:
            flights = list(self._flights.values())
        wait(flights, timeout=timeout_s)

    def _fly(self, channel: str, now: float, limit: int) -> "_Flight":
        """Start delivering ``channel``'s due rows in a thread of their own."""
        flight = _Flight()

        def run() -> None:
            try:
                flight.set_result(self._deliver_channel(channel, now, limit, flight.moved))
            except Exception as exc:  # reported when the flight lands
                flight.set_exception(exc)

        threading.Thread(target=run, name=f"vigil-notify-{channel}", daemon=True).start()
        return flight

    def _landed(self) -> DeliveryReport:
        """The summed reports of the flights that ended; they leave the in-flight table."""
        report = DeliveryReport()
        with self._flights_lock:
            landed = {c: f for c, f in self._flights.items() if f.done()}
            for channel in landed:
                del self._flights[channel]
        for channel, flight in landed.items():
            if flight.exception() is not None:
                log.error("delivery to %s failed: %s", channel, flight.exception())
            else:
                report.add(flight.result())
        return report

    def _deliver_channel(
        self, channel: str, now: float, limit: int, moved: Callable[[], None] = lambda: None
    ) -> DeliveryReport:
        """One channel's pass: breaker first, then its rows in order until one fails."""
        report = DeliveryReport()
        spec = self.channels.get(channel)
        params = self._breaker_params(channel)
        with self.db.begin() as conn:
            breaker, version = breakers.load(conn, CHANNEL, channel)
            allowed, admitted = admit(breaker, now, params)
            if admitted != breaker:  # a half-open probe: one process takes it
                if not breakers.save(
                    conn, CHANNEL, channel, admitted, version, was=breaker, now=now
                ):
                    return report
                breaker, version = admitted, version + 1
            rows = conn.execute(
                select(OUTBOX)
                .where(OUTBOX.c.channel == channel, OUTBOX.c.status == DeliveryStatus.PENDING)
                .order_by(OUTBOX.c.id)
                .limit(limit)
            ).all()
        for row in rows:
            if allowed == 0:
                report.held += 1
                with self.db.begin() as conn:
                    shared_counters.add(conn, [(NOTIFICATIONS_HELD, {"channel": channel}, 1.0)])
                break
            # Compared at the store's microsecond precision: `now` itself, stored, may read
            # back a hair later than the float it came from.
            if to_ts(row.next_attempt_at) > to_ts(to_dt(now)):  # type: ignore[operator]
                break  # it waits for its retry, and the rows behind it wait too: order is kept
            if not self._claim(row.id, now):
                continue
            outcome = self._send_within_limit(row, spec, now, report)
            moved()
            if outcome is None:  # permanent failure or rate-limited: not the channel's fault
                continue
            if record(breaker, outcome, now, params) != breaker:  # only changes are written
                with self.db.begin() as conn:
                    was, version = breakers.load(conn, CHANNEL, channel)
                    breaker = record(was, outcome, now, params)
                    breakers.save(conn, CHANNEL, channel, breaker, version, was=was, now=now)
                    if breaker.state is BreakerState.OPEN:  # shown in the alert's timeline
                        note = f"; {channel}'s breaker opened after {breaker.failures} failures"
                        conn.execute(
                            update(OUTBOX)
                            .where(OUTBOX.c.id == row.id)
                            .values(last_error=OUTBOX.c.last_error + note)
                        )
            if not outcome:
                break
            allowed = admit(breaker, now, params)[0]
        return report

    def _breaker_params(self, channel: str) -> BreakerParams:
        spec = self.channels.get(channel)
        return spec.breaker if spec else BreakerParams()

    def _claim(self, row_id: int, now: float) -> bool:
        with self.db.begin() as conn:
            done = conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == row_id, OUTBOX.c.status == DeliveryStatus.PENDING)
                .values(status=DeliveryStatus.SENDING, claimed_at=to_dt(now))
            )
        return done.rowcount == 1

    def _send_within_limit(self, row, spec, now, report) -> bool | None:  # type: ignore[no-untyped-def]
        """Deliver a claimed row, or its channel's rate-limit summary, or hold it back."""
        limit = spec.rate_limit if spec else None
        if limit is not None:
            with self.db.connect() as conn:
                sent, summarised = _sent_in_window(conn, row.channel, now)
            decision = allowance(limit, sent, summarised)
            if decision is not Allowance.SEND:
                note = f"over the rate limit of {limit} an hour"
                with self.db.begin() as conn:
                    conn.execute(
                        update(OUTBOX)
                        .where(OUTBOX.c.id == row.id)
                        .values(status=DeliveryStatus.SUPPRESSED, last_error=note)
                    )
                    limited = (NOTIFICATIONS_RATE_LIMITED, {"channel": row.channel}, 1.0)
                    shared_counters.add(conn, [limited])
                if decision is Allowance.SUPPRESS:
                    return None
                row = self._summary_row(row.channel, spec, limit, now)
        return self._deliver(row, spec, now, report)

    def _summary_row(self, channel: str, spec: ChannelSpec, limit: int, now: float):  # type: ignore[no-untyped-def]
        title, body = summary_for(spec.medium, channel, limit, self.dashboard_url)
        with self.db.begin() as conn:
            enqueue(conn, [Message(channel, SUMMARY_KIND, title, body)], now)
            row_id = conn.execute(select(func.max(OUTBOX.c.id))).scalar_one()
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == row_id)
                .values(status=DeliveryStatus.SENDING, claimed_at=to_dt(now))
            )
            return conn.execute(select(OUTBOX).where(OUTBOX.c.id == row_id)).one()

    def _deliver(self, row, spec, now, report) -> bool | None:  # type: ignore[no-untyped-def]
        """Send one claimed row; True if sent, False on a transient failure, None if permanent."""
        values: dict[str, Any] = {"attempts": row.attempts + 1}
        outcome: bool | None = True
        try:
            if spec is None:  # removed from the config while its notice was in flight
                raise _Permanent(f"channel {row.channel!r} is not configured any more")
            self.sender(spec, row.title, row.body, row.notify_type)
        except Exception as exc:  # any failure is stored and retried, its URLs' secrets hidden
            error = scrub(str(exc) or type(exc).__name__, url_secrets(spec.url if spec else ""))
            values["last_error"] = error[:2000]
            if getattr(exc, "is_transient", True):
                delay = backoff_s(row.attempts + 1, *self.backoff)
                values |= {"status": DeliveryStatus.PENDING, "next_attempt_at": to_dt(now + delay)}
                report.retried += 1
                outcome = False
            else:
                values["status"] = DeliveryStatus.FAILED
                report.failed += 1
                outcome = None
            log.warning("notification %s to %s not delivered: %s", row.id, row.channel, error)
        else:
            values |= {"status": DeliveryStatus.SENT, "sent_at": to_dt(time.time())}
            report.sent += 1
        with self.db.begin() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(**values))
            shared_counters.add(conn, [_delivery_count(row.channel, outcome)])
        return outcome

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
        """Stop the background thread after its current pass and the sends in flight."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.drain(timeout_s=30)
        self._stop.clear()

    def _loop(self, poll_s: float) -> None:
        while not self._stop.is_set():
            self._wake.wait(poll_s)
            self._wake.clear()
            try:
                self.deliver_due(time.time())
            except Exception:  # the store may be briefly unreachable; try again next pass
                log.exception("outbox delivery pass failed")


class _Flight(Future[DeliveryReport]):
    """One channel's delivery running in its own thread; knows when it last got a row out."""

    def __init__(self) -> None:
        super().__init__()
        self.moved_at = time.monotonic()

    def moved(self) -> None:
        """Note that a row went out (or failed) just now."""
        self.moved_at = time.monotonic()


def _await(started: Mapping[str, _Flight], failing: set[str], others: Sequence[_Flight]) -> None:
    """Wait for a pass's flights: until the first lands, then for the rest while they move.

    A flight stuck on one send for ``GRACE_S`` (or as long as the first took, if longer) is
    left to land in a later pass. A channel with failures in a row is waited for only when no
    other channel is out; a pass that started nothing waits up to ``GRACE_S`` for any landing.
    """
    waited = [f for c, f in started.items() if c not in failing]
    if not waited and not others:
        waited = list(started.values())
    if not waited:
        wait(others, timeout=GRACE_S, return_when=FIRST_COMPLETED)
        return
    began = time.monotonic()
    wait(waited, return_when=FIRST_COMPLETED)
    grace = max(time.monotonic() - began, GRACE_S)
    while rest := [f for f in waited if not f.done()]:
        stuck_s = time.monotonic() - max(f.moved_at for f in rest)
        if stuck_s >= grace:
            return
        wait(rest, timeout=grace - stuck_s)


class _Permanent(NotifyError):
    is_transient = False


def _delivery_count(channel: str, outcome: bool | None) -> Increment:
    """The shared counter one delivery attempt adds to (see ``_deliver``'s outcome)."""
    if outcome:
        return (NOTIFICATIONS_SENT, {"channel": channel}, 1.0)
    retried = "true" if outcome is False else "false"
    return (NOTIFICATIONS_FAILED, {"channel": channel, "retried": retried}, 1.0)


def _sent_in_window(conn: Any, channel: str, now: float) -> tuple[int, bool]:
    """How many notices ``channel`` was sent in the last hour, and whether a summary was."""
    rows = conn.execute(
        select(OUTBOX.c.kind, func.count())
        .where(
            OUTBOX.c.channel == channel,
            OUTBOX.c.status == DeliveryStatus.SENT,
            OUTBOX.c.claimed_at > to_dt(now - WINDOW_S),
        )
        .group_by(OUTBOX.c.kind)
    ).all()
    counts = dict(rows)
    summaries = counts.pop(SUMMARY_KIND, 0)
    return sum(counts.values()), summaries > 0
