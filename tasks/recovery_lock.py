"""One recovery per target at a time: a Prefect global concurrency limit per target.

The limit is created on first use (idempotently) and acquired with ``strict=True``: with
the default ``strict=False`` a missing limit silently protects nothing. Slots are leases
the server holds, so a crashed run's slot frees itself when its lease expires.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound, PrefectHTTPStatusError


def limit_name(target: str) -> str:
    """Name of the target's limit.

    >>> limit_name("web-1.example:80")
    'recovery-target-web-1.example-80'
    """
    return "recovery-target-" + re.sub(r"[^A-Za-z0-9_.-]", "-", target)


def ensure_limit(name: str) -> None:
    """Create a limit of one slot unless it exists."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
            except (ObjectAlreadyExists, PrefectHTTPStatusError):
                pass  # another run created it first


@contextmanager
def target_lock(target: str, wait_s: float = 0.5) -> Iterator[bool]:
    """Hold the target's slot; yield False at once (after ``wait_s``) when another run has it."""
    name = limit_name(target)
    ensure_limit(name)
    try:
        slot = concurrency(name, occupy=1, timeout_seconds=wait_s, strict=True)
        slot.__enter__()
    except TimeoutError:  # AcquireConcurrencySlotTimeoutError
        yield False
        return
    try:
        yield True
    finally:
        slot.__exit__(None, None, None)
