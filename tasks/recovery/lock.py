"""One recovery per target at a time: a Prefect global concurrency limit per target.

The limit is created on first use (idempotently) and acquired with ``strict=True``: with
the default ``strict=False`` a missing limit silently protects nothing. A taken slot is a
*lease* the Prefect server keeps (Prefect 3.8.8: ``/v2/concurrency_limits/increment-with-lease``),
renewed while the run lives; its id is recorded with the run, so whoever finds the run's
worker dead frees exactly that lease (`release_dead_lease`) instead of guessing at counts.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.concurrency._leases import maintain_concurrency_lease
from prefect.concurrency._sync import (
    acquire_concurrency_slots_with_lease,
    release_concurrency_slots_with_lease,
)
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound, PrefectHTTPStatusError

LEASE_SECONDS = 300.0  # Prefect's default; the server accepts 60 s to one day
MIN_LEASE_SECONDS = 60.0


def _is_status(error: BaseException | None, status_code: int) -> bool:
    return isinstance(error, httpx.HTTPStatusError) and error.response.status_code == status_code


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
def target_lock(
    target: str, *, lease_seconds: float = LEASE_SECONDS, holder: UUID | None = None
) -> Iterator[UUID | None]:
    """Hold the target's slot and yield its lease id; yield None at once when it is taken.

    One request, no waiting and no timeout: a slow server cannot be mistaken for a busy
    target (the server answers 423 Locked). The lease is renewed every 3/4 of
    ``lease_seconds`` while held; ``holder`` (the flow run) is written into the lease.
    """
    name = limit_name(target)
    ensure_limit(name)
    who = ConcurrencyLeaseHolder(type="flow_run", id=holder) if holder else None
    try:
        taken = acquire_concurrency_slots_with_lease(
            [name], 1, max_retries=0, lease_duration=lease_seconds, strict=True, holder=who
        )
    except ConcurrencySlotAcquisitionError as exc:
        if not _is_status(exc.__cause__, 423):
            raise
        yield None
        return
    try:
        # A lost lease stops the run: another run may hold the target by then.
        with maintain_concurrency_lease(
            taken.lease_id, lease_seconds, raise_on_lease_renewal_failure=True
        ):
            yield taken.lease_id
    finally:
        release_concurrency_slots_with_lease(taken.lease_id)


def release_dead_lease(client, lease_id: UUID) -> bool:  # type: ignore[no-untyped-def]
    """Free the slot of a dead run's lease, once; False when the lease is gone already.

    Renewing first tells whether the lease still exists (410 Gone: its expiry freed the
    slot, or its holder released it) and moves its expiry away, so the server's expiry
    service cannot free the same slot while this releases it. After the release the lease
    is revoked: its later expiry has nothing left to free.
    """
    try:
        client.renew_concurrency_lease(lease_id=lease_id, lease_duration=MIN_LEASE_SECONDS)
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code == 410:
            return False
        raise
    client.release_concurrency_slots_with_lease(lease_id=lease_id)
    return True
