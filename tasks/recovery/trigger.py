"""Start recoveries from firing alerts: map rules to procedures, gate, then launch.

The safety gate runs *before* a flow run is created, so an alert storm costs a few store
writes instead of a flow run per alert. The alerting engine's ``on_firing`` hook calls
``request_recovery`` with a launcher; ``launch_deployment`` is the production one.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from models.config.recovery import Procedure
from models.recovery import RecoveryRun
from tasks.recovery.store import admit

Launcher = Callable[[RecoveryRun], object]
DEPLOYMENT = "recover/recover"


def procedures_for_rule(
    procedures: list[Procedure], rule: str, named: str | None = None
) -> list[Procedure]:
    """Return the procedures an alert rule triggers, in config order.

    A procedure is triggered when it lists the rule in ``triggers`` or when the rule
    names it (``procedure:`` on the rule, passed as ``named``).
    """
    return [p for p in procedures if rule in p.triggers or p.name == named]


def is_allowed_target(procedure: Procedure, target: str) -> bool:
    """True when the procedure may act on ``target`` (an empty list allows any)."""
    return not procedure.targets or target in procedure.targets


def request_recovery(
    engine: Engine,
    procedures: list[Procedure],
    rule: str,
    target: str,
    labels: dict[str, str],
    *,
    launch: Launcher,
    named: str | None = None,
    now: datetime | None = None,
) -> list[RecoveryRun]:
    """Admit and launch every procedure mapped to ``rule`` for ``target``; return the launched."""
    launched = []
    for procedure in procedures_for_rule(procedures, rule, named):
        if not is_allowed_target(procedure, target):
            continue
        run, _why = admit(
            engine,
            procedure,
            target,
            trigger=f"alert:{rule}",
            labels=labels,
            now=now or datetime.now(UTC),
        )
        if run is not None:
            launch(run)
            launched.append(run)
    return launched


def launch_deployment(run: RecoveryRun) -> object:
    """Start the served ``recover`` deployment for an admitted run without waiting for it."""
    import json

    from prefect.deployments import run_deployment

    parameters = {
        "procedure": run.procedure,
        "target": run.target,
        "labels": json.loads(run.labels),
        "trigger": run.trigger,
        "run_id": run.id,
    }
    return run_deployment(DEPLOYMENT, parameters=parameters, timeout=0)
