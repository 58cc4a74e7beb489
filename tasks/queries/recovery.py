"""Recoveries as the Recoveries and Overview pages read them: runs and their audit trail."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select
from sqlmodel import col

from models.recovery import RecoveryAudit, RecoveryRun
from tasks.queries.frames import utc_columns
from tasks.recovery.store import IN_PROGRESS

if TYPE_CHECKING:
    import pandas as pd

TABLES = (RecoveryRun, RecoveryAudit)
RUN_FIELDS = (
    RecoveryRun.id, RecoveryRun.procedure, RecoveryRun.target, RecoveryRun.trigger,
    RecoveryRun.state, RecoveryRun.is_dry_run, RecoveryRun.requested_at, RecoveryRun.finished_at,
    RecoveryRun.message, RecoveryRun.flow_run_id,
)  # fmt: skip


def recovery_runs(
    engine: Engine, *, states: Sequence[str] = (), limit: int = 200
) -> "pd.DataFrame":
    """Return the newest recovery runs (optionally only in ``states``) with their duration."""
    import pandas as pd

    # an enum column written through SQLModel holds the member name (AWAITING_APPROVAL)
    state = func.lower(RecoveryRun.state)
    picked = (state.label("state") if f is RecoveryRun.state else f for f in RUN_FIELDS)
    newest = (col(RecoveryRun.requested_at).desc(), col(RecoveryRun.id).desc())
    query = select(*picked).order_by(*newest)
    if states:
        query = query.where(state.in_(list(states)))
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query.limit(limit))]
    frame = pd.DataFrame(rows, columns=[f.key for f in RUN_FIELDS])
    utc_columns(frame, "requested_at", "finished_at")
    frame.insert(8, "duration_s", (frame["finished_at"] - frame["requested_at"]).dt.total_seconds())
    return frame


def runs_in_progress(engine: Engine) -> "pd.DataFrame":
    """Return the runs not finished yet (admitted, queued, awaiting approval, running)."""
    return recovery_runs(engine, states=IN_PROGRESS)


def recovery_audit(engine: Engine, run_id: int) -> "pd.DataFrame":
    """Return the recorded decisions and steps of one run, oldest first, with the seconds
    each took since the previous record (``after_s``)."""
    import pandas as pd

    a = RecoveryAudit
    event = func.lower(a.event).label("event")  # stored as the enum member's name
    query = (
        select(a.at, event, a.actor, a.detail).where(col(a.run_id) == run_id).order_by(a.at, a.id)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    frame = utc_columns(pd.DataFrame(rows, columns=["at", "event", "actor", "detail"]), "at")
    frame.insert(1, "after_s", frame["at"].diff().dt.total_seconds())
    return frame
