"""Recovery bookkeeping in the store: the safety gate, run states and the audit log.

Admission is compare-and-set on ``recovery_guard.version``, so concurrent triggers (threads,
processes, machines sharing PostgreSQL) cannot exceed the rate limit together.
"""

import json
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from models.config.recovery import Procedure
from models.recovery import (
    AuditEvent,
    RecoveryAudit,
    RecoveryGuard,
    RecoveryRun,
    RunState,
)
from tasks.core.recovery.safety import GuardState, Holder, Policy, after_run, refusal
from tasks.store import shared_counters
from tasks.store.shared_counters import RECOVERIES_RUN

ADMIT_ATTEMPTS = 50


def policy_of(procedure: Procedure) -> Policy:
    """Return the safety policy a procedure declares."""
    limits = procedure.limits
    return Policy(limits.max_runs, limits.window, limits.cooldown, limits.disable_after_failures)


def audit(
    engine: Engine,
    procedure: str,
    target: str,
    event: AuditEvent,
    detail: str = "",
    *,
    run_id: int | None = None,
    actor: str = "vigil",
    now: datetime | None = None,
    path: str = "",
) -> None:
    """Record one decision."""
    row = RecoveryAudit(
        run_id=run_id,
        procedure=procedure,
        target=target,
        event=event,
        actor=actor,
        detail=detail,
        path=path,
        at=now or datetime.now(UTC),
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()


def admit(
    engine: Engine,
    procedure: Procedure,
    target: str,
    *,
    trigger: str,
    labels: dict[str, str],
    now: datetime,
    actor: str = "vigil",
) -> tuple[RecoveryRun | None, str]:
    """Pass a trigger (by ``actor``) through the safety gate.

    Returns the admitted run, or None and the reason it was refused. Both are audited.
    """
    audit(engine, procedure.name, target, AuditEvent.TRIGGERED, trigger, actor=actor, now=now)
    for _ in range(ADMIT_ATTEMPTS):
        try:
            result = _try_admit(engine, procedure, target, trigger, labels, now)
        except OperationalError:  # SQLite: another writer won the race; try again
            result = None
        if result is not None:
            return result
        time.sleep(0.01)
    raise RuntimeError(f"could not admit {procedure.name} on {target}: store too busy")


def _try_admit(
    engine: Engine,
    procedure: Procedure,
    target: str,
    trigger: str,
    labels: dict[str, str],
    now: datetime,
) -> tuple[RecoveryRun | None, str] | None:
    guard = _guard(engine, procedure.name, target)
    with Session(engine) as session:
        since = now - procedure.limits.window
        recent = session.exec(
            select(RecoveryRun.requested_at).where(
                RecoveryRun.procedure == procedure.name,
                RecoveryRun.target == target,
                col(RecoveryRun.is_dry_run).is_(False),
                col(RecoveryRun.requested_at) > since,
            )
        ).all()
        reason = refusal(policy_of(procedure), _state(guard), [_utc(t) for t in recent], now=now)
        claimed = session.exec(  # type: ignore[call-overload]
            update(RecoveryGuard)
            .where(col(RecoveryGuard.id) == guard.id, col(RecoveryGuard.version) == guard.version)
            .values(version=guard.version + 1)
        )
        if claimed.rowcount != 1:
            session.rollback()
            return None
        run = None
        if reason is None:
            run = RecoveryRun(
                procedure=procedure.name,
                target=target,
                trigger=trigger,
                state=RunState.ADMITTED,
                labels=json.dumps(labels, sort_keys=True),
                requested_at=now,
            )
            session.add(run)
        session.commit()
        if run is not None:
            session.refresh(run)
    if run is None:
        audit(engine, procedure.name, target, AuditEvent.SKIPPED, reason or "", now=now)
        return None, reason or ""
    audit(engine, procedure.name, target, AuditEvent.ADMITTED, trigger, run_id=run.id, now=now)
    return run, ""


def _guard(engine: Engine, procedure: str, target: str) -> RecoveryGuard:
    """Return the guard row, creating it on first use (safe against concurrent creators)."""
    query = select(RecoveryGuard).where(
        RecoveryGuard.procedure == procedure, RecoveryGuard.target == target
    )
    with Session(engine) as session:
        found = session.exec(query).first()
        if found is not None:
            return found
        session.add(RecoveryGuard(procedure=procedure, target=target))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        return session.exec(query).one()


def _state(guard: RecoveryGuard) -> GuardState:
    finished = _utc(guard.last_finished_at) if guard.last_finished_at else None
    return GuardState(guard.consecutive_failures, guard.is_disabled, finished)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything Vigil writes is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_dry_run(engine: Engine, procedure: str, target: str, *, trigger: str) -> RecoveryRun:
    """Record a dry run: it passes no gate and counts against no limit."""
    run = RecoveryRun(
        procedure=procedure,
        target=target,
        trigger=trigger,
        state=RunState.DRY_RUN,
        is_dry_run=True,
    )
    with Session(engine) as session:
        session.add(run)
        session.commit()
        session.refresh(run)
    return run


def set_state(
    engine: Engine,
    run_id: int,
    state: RunState,
    *,
    flow_run_id: str | None = None,
    lock_lease_id: str | None = None,
) -> None:
    """Move a run to ``state`` (and remember its Prefect flow run and its lock's lease)."""
    with Session(engine) as session:
        run = session.get(RecoveryRun, run_id)
        assert run is not None, f"recovery run {run_id} vanished"
        run.state = state
        run.flow_run_id = flow_run_id or run.flow_run_id
        run.lock_lease_id = lock_lease_id or run.lock_lease_id
        session.add(run)
        session.commit()


def finish(
    engine: Engine,
    procedure: Procedure,
    run_id: int,
    state: RunState,
    message: str,
    *,
    now: datetime,
) -> None:
    """End a run; runs that acted start the cooldown and count toward auto-disable."""
    with Session(engine) as session:
        run = session.get(RecoveryRun, run_id)
        assert run is not None, f"recovery run {run_id} vanished"
        run.state, run.message, run.finished_at = state, message[:4000], now
        session.add(run)
        labels = {"procedure": run.procedure, "outcome": str(state)}
        shared_counters.add(session.connection(), [(RECOVERIES_RUN, labels, 1.0)])
        session.commit()
        target = run.target
    if state not in (RunState.SUCCEEDED, RunState.FAILED):
        return
    _update_guard(engine, procedure, target, succeeded=state == RunState.SUCCEEDED, now=now)


def _update_guard(
    engine: Engine, procedure: Procedure, target: str, *, succeeded: bool, now: datetime
) -> None:
    for _ in range(ADMIT_ATTEMPTS):
        guard = _guard(engine, procedure.name, target)
        new = after_run(policy_of(procedure), _state(guard), succeeded=succeeded, now=now)
        if _compare_and_set(engine, guard, new):
            if new.is_disabled and not guard.is_disabled:
                detail = f"{new.consecutive_failures} consecutive failures"
                audit(engine, procedure.name, target, AuditEvent.DISABLED, detail, now=now)
            return
        time.sleep(0.01)


def _compare_and_set(engine: Engine, guard: RecoveryGuard, new: GuardState) -> bool:
    with Session(engine) as session:
        try:
            done = session.exec(  # type: ignore[call-overload]
                update(RecoveryGuard)
                .where(
                    col(RecoveryGuard.id) == guard.id,
                    col(RecoveryGuard.version) == guard.version,
                )
                .values(
                    version=guard.version + 1,
                    consecutive_failures=new.consecutive_failures,
                    is_disabled=new.is_disabled,
                    last_finished_at=new.last_finished_at,
                )
            )
            session.commit()
        except OperationalError:
            return False
        return bool(done.rowcount == 1)


def enable(engine: Engine, procedure: Procedure, target: str, *, actor: str) -> None:
    """Re-enable a procedure on a target after auto-disable (resets the failure count)."""
    while True:
        guard = _guard(engine, procedure.name, target)
        new = GuardState(0, False, _state(guard).last_finished_at)
        if _compare_and_set(engine, guard, new):
            break
    audit(engine, procedure.name, target, AuditEvent.ENABLED, "re-enabled", actor=actor)


def guard_of(engine: Engine, procedure: str, target: str) -> GuardState:
    """Return the safety state of a procedure on a target."""
    return _state(_guard(engine, procedure, target))


def audit_trail(engine: Engine, run_id: int) -> list[RecoveryAudit]:
    """Return the audit rows of one run, oldest first."""
    with Session(engine) as session:
        query = select(RecoveryAudit).where(RecoveryAudit.run_id == run_id)
        return list(session.exec(query.order_by(col(RecoveryAudit.id))).all())


def recent_runs(engine: Engine, limit: int = 20) -> list[RecoveryRun]:
    """Return the newest runs first."""
    with Session(engine) as session:
        query = select(RecoveryRun).order_by(col(RecoveryRun.id).desc()).limit(limit)
        return list(session.exec(query).all())


def run_by_id(engine: Engine, run_id: int) -> RecoveryRun | None:
    """Return one run."""
    with Session(engine) as session:
        return session.get(RecoveryRun, run_id)


def run_by_flow_run(engine: Engine, flow_run_id: str) -> RecoveryRun | None:
    """Return the run carried out by Prefect flow run ``flow_run_id``."""
    with Session(engine) as session:
        query = select(RecoveryRun).where(RecoveryRun.flow_run_id == str(flow_run_id))
        return session.exec(query).first()


IN_PROGRESS = (RunState.ADMITTED, RunState.QUEUED, RunState.AWAITING_APPROVAL, RunState.RUNNING)


def runs_in_progress(engine: Engine, target: str, *, excluding: int | None) -> list[Holder]:
    """Return the real (not dry) runs in progress on ``target``, oldest first."""
    query = select(RecoveryRun).where(
        RecoveryRun.target == target,
        col(RecoveryRun.state).in_(IN_PROGRESS),
        col(RecoveryRun.is_dry_run).is_(False),
    )
    with Session(engine) as session:
        rows = session.exec(query.order_by(col(RecoveryRun.id))).all()
    return [Holder(r.id or 0, r.procedure, r.state) for r in rows if r.id != excluding]
