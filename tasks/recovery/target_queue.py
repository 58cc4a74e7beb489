"""Wait for a busy target instead of dropping the run: queue behind it, or stand down.

A recovery that finds its target held by another run (often one paused for approval) is
recorded as queued and polls the target's lock until it is free or ``queue_timeout`` runs
out. A run of the same procedure already in progress covers the trigger: the new run is
recorded as superseded by it. Either way the decision is visible in the run and its audit.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from models.recovery import AuditEvent, RunState
from tasks.core.recovery.safety import Holder, superseding
from tasks.recovery.lock import target_lock
from tasks.recovery.steps import RunBook, engine_for
from tasks.recovery.store import runs_in_progress, set_state

POLL_SECONDS = 1.0


@contextmanager
def wait_for_target(
    book: RunBook, *, timeout: timedelta, poll_seconds: float = POLL_SECONDS
) -> Iterator[tuple[RunState | None, str]]:
    """Hold the target's lock, waiting for it if needed.

    Yields ``(None, "")`` while the lock is held, or the state and reason a run that never
    got it ends with (superseded, or skipped after waiting ``timeout``); the caller records
    that end.
    """
    deadline = time.monotonic() + timeout.total_seconds()
    engine = engine_for(book.database_url)
    behind: Holder | None = None
    while True:
        with target_lock(book.target) as is_ours:
            if is_ours:
                yield None, ""
                return
        holders = runs_in_progress(engine, book.target, excluding=book.run_id)
        same = superseding(book.procedure, holders)
        if same is not None:
            yield RunState.SUPERSEDED, f"run {same.run_id} of {same.procedure} is {same.state}"
            return
        if holders and (behind is None or behind.run_id != holders[0].run_id):
            behind = holders[0]
            _announce(book, behind)
        if time.monotonic() >= deadline:
            yield RunState.SKIPPED, f"gave up after waiting {timeout} for {_busy(book, behind)}"
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
