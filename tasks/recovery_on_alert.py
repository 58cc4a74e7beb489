"""Alert-triggered recovery: a firing alert asks for its mapped procedures, through the gate."""

from sqlalchemy import Engine

from models.config.root import VigilConfig
from tasks.alerting.hooks import FiringAlert, FiringHook
from tasks.recovery_trigger import Launcher, launch_deployment, request_recovery


def recovery_hook(
    config: VigilConfig, db: Engine, launch: Launcher = launch_deployment
) -> FiringHook:
    """Return an ``ON_FIRING`` hook that requests the recoveries mapped to the alert's rule.

    The safety gate (allow-list, rate limit, cooldown, auto-disable, one run per target)
    decides and audits; the alert's ``target`` label names the target.
    """

    def on_firing(alert: FiringAlert) -> None:
        target = alert.labels.get("target", "")
        if not target:
            return
        request_recovery(
            db,
            config.procedures,
            alert.rule,
            target,
            dict(alert.labels),
            launch=launch,
            named=alert.procedure,
        )

    return on_firing
