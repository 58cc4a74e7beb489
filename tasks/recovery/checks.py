"""Prefect tasks for a procedure's checks: preconditions before acting, verification after."""

from prefect import task
from prefect.cache_policies import NO_CACHE

from models.errors import RecoveryError
from models.recovery import AuditEvent
from tasks.core.recovery.plan import Plan
from tasks.recovery.probe import probe_once, wait_until_passing
from tasks.recovery.steps import RunBook


@task(name="check-preconditions", cache_policy=NO_CACHE)
def preconditions_hold(the_plan: Plan, book: RunBook) -> tuple[bool, str]:
    """Return whether every precondition gives its expected answer (and why not)."""
    for check in the_plan.preconditions:
        is_passing, seen = probe_once(check)
        if is_passing != (check["expect"] == "passing"):
            why = f"precondition not met: expected {check['expect']}, saw {seen}"
            book.write(AuditEvent.SKIPPED, why)
            return False, why
    return True, "preconditions hold"


@task(name="verify", cache_policy=NO_CACHE)
def verify(the_plan: Plan, book: RunBook) -> str:
    """Probe until the verification passes; raise RecoveryError (rolling back) if it never does."""
    check = the_plan.verification
    assert check is not None
    try:
        seen = wait_until_passing(check, check["within_s"], check["interval_s"])
    except RecoveryError as exc:
        book.write(AuditEvent.FAILED, f"verification: {exc}")
        raise
    book.write(AuditEvent.VERIFIED, seen)
    return seen
