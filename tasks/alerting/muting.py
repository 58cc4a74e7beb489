"""Gather what mutes alerts right now from the store and the plan (the decision is pure:
``tasks.core.alerting.muting``)."""

from collections.abc import Sequence

from sqlalchemy import Connection

from tasks.alerting import store as repo
from tasks.alerting.plan import AlertingPlan
from tasks.alerting.store import AlertRow
from tasks.core.alerting.maintenance_windows import active_windows
from tasks.core.alerting.muting import MuteScene


def gather_scene(
    conn: Connection, plan: AlertingPlan, firing: Sequence[AlertRow], now: float
) -> MuteScene:
    """Active silences and windows, DOWN targets and inhibition sources among ``firing``."""
    down = {r.labels.get("target", "") for r in firing if r.rule in plan.down_rules}
    return MuteScene(
        silences=repo.active_silences(conn, now),
        windows=active_windows(plan.maintenance, now),
        parents=plan.parents if plan.parent_down_inhibits else {},
        down=frozenset(down),
        inhibit=plan.inhibit,
        firing=[r.labels for r in firing],
    )
