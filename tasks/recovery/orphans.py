"""End the recovery runs whose worker died: the row says failed, with the step it reached.

A worker killed mid-run cannot write its own end. When the supervisor marks its Prefect
flow run Crashed (deployments/stale_runs_api.py) it calls ``end_orphaned_runs``: each
unfinished recovery run of those flow runs becomes FAILED (compare-and-set, so a run
that ended meanwhile keeps its state), its audit says why and how far it got, and it
counts as a failed recovery. Steps it completed were not rolled back (the worker that
knew how is gone); the message says so, so a person can check the target. The target's
lock is a Prefect concurrency lease whose id the run row keeps; the caller frees it.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun
from models.vocabulary.run_states import RunState
from tasks.store import shared_counters
from tasks.store.shared_counters import RECOVERIES_RUN

RUN = RecoveryRun.__table__  # type: ignore[attr-defined]
AUDIT = RecoveryAudit.__table__  # type: ignore[attr-defined]
UNFINISHED = (RunState.ADMITTED, RunState.QUEUED, RunState.AWAITING_APPROVAL, RunState.RUNNING)


def end_orphaned_runs(
    engine: Engine, flow_run_ids: Iterable[str], reason: str, *, now: datetime
) -> list[int]:
    """Mark FAILED the unfinished recovery runs of ``flow_run_ids``; return their ids."""
    ids = [str(i) for i in flow_run_ids]
    if not ids:
        return []
    ended = []
    with engine.begin() as conn:
        runs = conn.execute(
            select(RUN.c.id, RUN.c.procedure, RUN.c.target, RUN.c.state).where(
                RUN.c.flow_run_id.in_(ids), RUN.c.state.in_(UNFINISHED)
            )
        ).all()
        for run in runs:
            steps = conn.execute(
                select(AUDIT.c.detail)
                .where(AUDIT.c.run_id == run.id, AUDIT.c.event == AuditEvent.STEP_SUCCEEDED)
                .order_by(AUDIT.c.id)
            ).all()
            message = reached(str(run.state), [s.detail.split(":", 1)[0] for s in steps], reason)
            done = conn.execute(
                update(RUN)
                .where(RUN.c.id == run.id, RUN.c.state == run.state)
                .values(state=RunState.FAILED, message=message, finished_at=now)
            )
            if done.rowcount != 1:
                continue
            conn.execute(
                insert(AUDIT).values(
                    run_id=run.id,
                    procedure=run.procedure,
                    target=run.target,
                    event=AuditEvent.FAILED,
                    actor="vigil",
                    detail=message,
                    at=now,
                )
            )
            labels = {"procedure": run.procedure, "outcome": str(RunState.FAILED)}
            shared_counters.add(conn, [(RECOVERIES_RUN, labels, 1.0)])
            ended.append(run.id)
    return ended


def reached(state: str, steps_done: list[str], reason: str) -> str:
    """The failed run's message: why, and how far it got (a running run was in the next step).

    >>> reached("admitted", [], "gone")
    'worker died (gone) while admitted, before any step: nothing changed'
    >>> reached("running", [], "gone")
    'worker died (gone) while running, in step 1: it may have changed the target; check it'
    >>> reached("running", ["drain"], "gone").split(": ")[0]
    'worker died (gone) while running, in step 2 after 1 steps (drain); they were not rolled back'
    """
    died = f"worker died ({reason}) while {state}"
    step = f" in step {len(steps_done) + 1}" if state == RunState.RUNNING else ""
    if not steps_done and step:
        return f"{died},{step}: it may have changed the target; check it"
    if not steps_done:
        return f"{died}, before any step: nothing changed"
    done = f"after {len(steps_done)} steps ({', '.join(steps_done)})"
    return f"{died},{step} {done}; they were not rolled back: check the target"
