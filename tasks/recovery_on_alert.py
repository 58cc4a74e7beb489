"""Alert-triggered recovery: a firing alert asks for its mapped procedures, through the gate."""

from sqlalchemy import Engine

from models.config.root import VigilConfig
from tasks.alerting.hooks import FiringHook
from tasks.alerting.plan import AlertingPlan, build_plan
from tasks.recovery_trigger import Launcher, launch_deployment
from tasks.remediation import Remediator


def recovery_hook(
    config: VigilConfig,
    db: Engine,
    launch: Launcher = launch_deployment,
    plan: AlertingPlan | None = None,
) -> FiringHook:
    """Return an ``ON_FIRING`` hook that requests the recoveries mapped to the alert's rule.

    A silence, an active maintenance window or a DOWN parent skips them (audited with the
    reason); rules with ``remediate:`` count attempts first (``tasks.remediation``). The
    safety gate (allow-list, rate limit, cooldown, auto-disable, one run per target)
    decides and audits; the alert's ``target`` label names the target.
    """
    return Remediator(config, db, plan or build_plan(config), launch).on_firing
