"""The generic recovery flow: gate → lock → admit → preconditions → approval → steps → verify.

The decisions are in tasks/core/recovery/run.py, the audited I/O in tasks/recovery/runner.py.
"""

from datetime import UTC, datetime

from prefect import flow

from models.config import load_config
from models.config.recovery import find_procedure
from models.errors import RecoveryError
from models.settings import get_settings
from tasks.access.config_audit import note_config_load
from tasks.core.recovery.run import plan_for
from tasks.recovery.runner import admitted, carry_out, refuse, rehearse, served_refusal
from tasks.recovery.steps import RunBook, engine_for
from tasks.recovery.target_queue import wait_for_target
from tasks.store.flow_timing import timed_run


@flow(name="recover", flow_run_name="{procedure} on {target}")
@timed_run("recover")
def recover(
    procedure: str,
    target: str,
    labels: dict[str, str] | None = None,
    dry_run: bool = False,
    trigger: str = "manual",
    run_id: int | None = None,
) -> str:
    """Run one recovery procedure on one target; return its outcome in a line.

    The config and the store are the serving process's (``VIGIL_CONFIG_PATH``,
    ``VIGIL_DATABASE_URL``), never the caller's: whoever starts a run through the Prefect
    API chooses among the served procedures only. A procedure the config does not name, or
    a ``run_id`` that is not an admitted run of this procedure on this target, is refused
    (audited; nothing runs).
    """
    settings = get_settings()
    config, url = load_config(settings.config_path), settings.database_url
    note_config_load(
        engine_for(url), settings.config_path, config, process="recover flow", now=datetime.now(UTC)
    )
    why = served_refusal(config.procedures, url, procedure, target, run_id)
    if why:
        return f"refused: {why}"
    proc = find_procedure(config.procedures, procedure)
    book = RunBook(url, proc.name, target, run_id)
    try:
        the_plan = plan_for(config.targets, proc, target, labels or {})
    except RecoveryError as exc:  # refused before anything ran (e.g. a hostile label value)
        return refuse(proc, book, str(exc))
    if dry_run or proc.dry_run:
        return rehearse(the_plan, url, trigger)
    waiting = wait_for_target(
        book, timeout=proc.limits.queue_timeout, lease_seconds=settings.recovery_lease_seconds
    )
    with waiting as (ended, why, book):
        if ended is not None:
            return refuse(proc, book, why, state=ended)
        now = datetime.now(UTC)
        admitted_book, why = admitted(
            book,
            proc,
            trigger=trigger,
            labels=labels or {},
            now=now,
            requested_by=settings.requested_by,
        )
        return carry_out(the_plan, admitted_book) if admitted_book else why
