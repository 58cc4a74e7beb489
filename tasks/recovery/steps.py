"""Prefect tasks for recovery steps, with rollback and commit hooks for ``transaction()``.

Retries happen inside the task body on purpose: in Prefect 3.8.8 a task's ``retries=``
inside a transaction rolls back every completed sibling on the *first* failed attempt, even
when a later attempt succeeds (shared notes, prefect-3.8.8.md §2).

A step that calls a URL (``http``, ``scale`` with ``url``) is behind a circuit breaker (per
method and endpoint, in the store): while it is open the step fails at once, without calling
or retrying, until a probe after the cool-down.
"""

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.transactions import Transaction, get_transaction
from sqlalchemy import Engine

from models.db import make_engine
from models.errors import RecoveryError
from models.recovery import AuditEvent
from models.vocabulary.redact import redact_url
from tasks.core.recovery.plan import Action, Group, describe
from tasks.core.resilience.breaker import BreakerParams
from tasks.recovery.actions import Outcome, cleanup, execute, undo
from tasks.recovery.store import audit
from tasks.store.breakers import RECOVERY, StoredBreakers


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """Return one engine per store URL for this process."""
    return make_engine(url)


@dataclass(frozen=True)
class RunBook:
    """Where a run's decisions are written."""

    database_url: str
    procedure: str
    target: str
    run_id: int | None
    lock_lease_id: str | None = None  # the Prefect lease of the target's lock, once held

    def write(
        self, event: AuditEvent, detail: str = "", *, actor: str = "vigil", path: str = ""
    ) -> None:
        """Audit one decision of this run (``path``: where a person's answer came from)."""
        engine = engine_for(self.database_url)
        audit(
            engine,
            self.procedure,
            self.target,
            event,
            detail,
            run_id=self.run_id,
            actor=actor,
            path=path,
        )


@task(name="run-step", task_run_name="{action.name}", cache_policy=NO_CACHE)
def run_action(action: Action, book: RunBook) -> str:
    """Run one action, retrying it in this body; stage its undo for the transaction."""
    outcome = _with_retries(action, book)
    txn = get_transaction()
    if txn is not None:
        undo_info = outcome.undo
        if action.rollback is not None:
            undo_info = {"kind": "action", "action": action.rollback}
        txn.set("undo", undo_info)
        txn.set("cleanup", outcome.cleanup)
        txn.set("book", book)
        txn.set("name", action.name)
    book.write(AuditEvent.STEP_SUCCEEDED, f"{action.name}: {outcome.output}"[:4000])
    return outcome.output


class BreakerOpenError(RecoveryError):
    """An HTTP step not called: its endpoint's breaker is open."""

    is_transient = False


def _with_retries(action: Action, book: RunBook) -> Outcome:
    logger = get_run_logger()
    delay = action.retry_delay_s
    for attempt in range(1, action.retries + 2):
        try:
            return execute_guarded(action, book)
        except BreakerOpenError as exc:
            book.write(AuditEvent.STEP_FAILED, f"{action.name}: {exc}"[:4000])
            raise
        except RecoveryError as exc:
            if attempt > action.retries:
                detail = f"{action.name}: failed after {attempt} attempt(s): {exc}"
                book.write(AuditEvent.STEP_FAILED, detail[:4000])
                raise
            logger.warning(
                "%s attempt %d failed: %s; retrying in %gs", action.name, attempt, exc, delay
            )
            time.sleep(delay)
            delay *= action.retry_backoff
    raise AssertionError("unreachable")


def execute_guarded(
    action: Action, book: RunBook, clock: Callable[[], float] = time.time
) -> Outcome:
    """Execute ``action``; a step that calls a URL (``http``, ``scale`` with ``url``) asks its
    breaker first and tells it the outcome.

    Raises BreakerOpenError (not retried) while the step's breaker is open.
    """
    if "breaker" not in action.params:
        return execute(action)
    params = action.params
    name = redact_url(f"{params['method']} {params['url']}")[:255]
    limits = BreakerParams(params["breaker"]["failures"], params["breaker"]["cooldown_s"])
    breakers = StoredBreakers(engine_for(book.database_url), RECOVERY)
    if not breakers.allows(name, clock(), limits):
        raise BreakerOpenError(
            f"not called: the circuit breaker of {name} is open after repeated failures; "
            "it is probed again after its cool-down"
        )
    try:
        outcome = execute(action)
    except RecoveryError:
        breakers.record(name, False, clock(), limits)
        raise
    breakers.record(name, True, clock(), limits)
    return outcome


@run_action.on_rollback
def _undo_step(txn: Transaction) -> None:
    """Undo a completed step; never raise, so the other steps still roll back."""
    info: dict[str, Any] | None = txn.get("undo", None)
    book: RunBook = txn.get("book")
    name = txn.get("name")
    if info is None:
        book.write(AuditEvent.ROLLED_BACK, f"{name}: nothing to undo")
        return
    try:
        if info["kind"] == "action":
            seen = f"ran {describe(info['action'])}: {execute(info['action']).output}"
        else:
            seen = undo(info)
        book.write(AuditEvent.ROLLED_BACK, f"{name}: {seen}"[:4000])
    except Exception as exc:
        book.write(AuditEvent.ROLLBACK_FAILED, f"{name}: {type(exc).__name__}: {exc}"[:4000])


@run_action.on_commit
def _drop_kept(txn: Transaction) -> None:
    """Delete what a step kept for undo, once the whole run has committed."""
    info = txn.get("cleanup", None)
    if info is not None:
        cleanup(info)


def run_group(group: Group, book: RunBook) -> list[str]:
    """Run a group's steps at the same time; raise the first failure after all have ended.

    Each step runs in a thread with a copy of this context, so it joins the open
    transaction. (``run_action.submit`` would not: submitted runs commit on their own,
    and nothing would roll them back.)
    """
    with ThreadPoolExecutor(max_workers=len(group.actions)) as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, run_action, action, book)
            for action in group.actions
        ]
    for future in futures:
        future.result()  # re-raises a failed step's error
    return [future.result() for future in futures]
