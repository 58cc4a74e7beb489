"""Wait for a busy target instead of dropping the run: queue behind it, or stand down.

A recovery that finds its target held by another run (often one paused for approval) is
recorded as queued and polls the target's lock until it is free or ``queue_timeout`` runs
out. A run of the same procedure already in progress covers the trigger: the new run is
recorded as superseded by it. Either way the decision is visible in the run and its audit.
The lock's lease id goes into the run's book: the finder of a dead worker frees that lease.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

from prefect.runtime import flow_run

from models.recovery import AuditEvent, RunState
from tasks.core.recovery.safety import Holder, superseding
from tasks.recovery.lock import LEASE_SECONDS, target_lock
from tasks.recovery.steps import RunBook, engine_for
from tasks.recovery.store import runs_in_progress, set_state

POLL_SECONDS = 1.0


@contextmanager
def wait_for_target(
    book: RunBook,
    *,
    timeout: timedelta,
    lease_seconds: float = LEASE_SECONDS,
    poll_seconds: float = POLL_SECONDS,
) -> Iterator[tuple[RunState | None, str, RunBook]]:
    """Hold the target's lock, waiting for it if needed.

    Yields ``(None, "", book)`` while the lock is held, ``book`` carrying the lock's lease
    id; or the state and reason a run that never got it ends with (superseded, or skipped
    after waiting ``timeout``) and the book unchanged; the caller records that end.
    """
    deadline = time.monotonic() + timeout.total_seconds()
    engine = engine_for(book.database_url)
    behind: Holder | None = None
    holder = UUID(flow_run.id) if flow_run.id else None
    while True:
        with target_lock(book.target, lease_seconds=lease_seconds, holder=holder) as lease_id:
            if lease_id is not None:
                yield None, "", replace(book, lock_lease_id=str(lease_id))
                return
        holders = runs_in_progress(engine, book.target, excluding=book.run_id)
        same = superseding(book.procedure, holders)
        if same is not None:
            why = f"run {same.run_id} of {same.procedure} is {same.state}"
            yield RunState.SUPERSEDED, why, book
            return
        if holders and (behind is None or behind.run_id != holders[0].run_id):
            behind = holders[0]
            _announce(book, behind)
        if time.monotonic() >= deadline:
            why = f"gave up after waiting {timeout} for {_busy(book, behind)}"
            yield RunState.SKIPPED, why, book
            return
        time.sleep(poll_seconds)


def _announce(book: RunBook, holder: Holder) -> None:
    detail = f"behind run {holder.run_id} of {holder.procedure} ({holder.state})"
    book.write(AuditEvent.QUEUED, detail)
    if book.run_id is not None:
        set_state(engine_for(book.database_url), book.run_id, RunState.QUEUED)


def _busy(book: RunBook, holder: Holder | None) -> str:
    if holder is None:
        return f"another recovery on {book.target}"
    return f"run {holder.run_id} of {holder.procedure} on {book.target}"
