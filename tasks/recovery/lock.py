"""One recovery per target at a time: a Prefect global concurrency limit per target.

The limit is created on first use (idempotently) and acquired with ``strict=True``: with
the default ``strict=False`` a missing limit silently protects nothing. Slots are leases
the server holds, so a crashed run's slot frees itself when its lease expires.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound, PrefectHTTPStatusError


def _is_locked(error: BaseException | None) -> bool:
    return isinstance(error, httpx.HTTPStatusError) and error.response.status_code == 423


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
            # Another run may create it first; that is just as good.
            with suppress(ObjectAlreadyExists, PrefectHTTPStatusError):
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )


@contextmanager
def target_lock(target: str) -> Iterator[bool]:
    """Hold the target's slot; yield False at once when another run holds it.

    One request, no waiting and no timeout: a slow server cannot be mistaken for a busy
    target. The server answers 423 Locked when the slot is taken.
    """
    name = limit_name(target)
    ensure_limit(name)
    slot = concurrency(name, occupy=1, max_retries=0, strict=True)
    try:
        slot.__enter__()
    except ConcurrencySlotAcquisitionError as exc:
        if not _is_locked(exc.__cause__):
            raise
        yield False
        return
    try:
        yield True
    finally:
        slot.__exit__(None, None, None)


def reset_target_slots(client, target: str, holding: int) -> None:  # type: ignore[no-untyped-def]
    """Set the target's taken slots to ``holding``, the live runs that hold its lock.

    A killed worker's slot is a lease its Prefect server keeps: a private server took it
    along when it died (the slot count stays taken for good), and a long-lived one frees
    it only when the lease expires. The run that found the dead worker corrects it now.
    """
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    with suppress(ObjectNotFound):
        client.update_global_concurrency_limit(
            limit_name(target), GlobalConcurrencyLimitUpdate(active_slots=holding)
        )
