"""Wire alerting onto the batch seam: one engine per process, delivering in the background."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from models.config.root import VigilConfig
from models.config.slo import alert_rules
from models.db import make_engine
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.incidents import IncidentTracker
from tasks.alerting.plan import AlertingPlan, build_plan
from tasks.selfwatch.rules import has_rules
from tasks.store.batch_hooks import SUBSCRIBERS


def start_alerting(config: VigilConfig, db_url: str) -> AlertEngine:
    """Build the engine for ``config``, start its deliverer and subscribe it to every batch.

    Firing alerts request the recovery procedures mapped to their rule (remediating first
    where the rule says so). Call once per process (collector, push endpoint, checks
    runner); ``stop_alerting`` undoes it.
    """
    db = make_engine(db_url)
    plan = build_plan(config)
    engine = AlertEngine(db, plan, store=MetricStore(db), **reactions(config, db, plan))
    engine.outbox.start()
    SUBSCRIBERS.append(engine.on_batch)
    return engine


def reactions(config: VigilConfig, db: Engine, plan: AlertingPlan) -> dict:
    """The engine's ``on_firing`` and ``on_evaluated`` hooks: incidents, recovery, remediation."""
    tracker = IncidentTracker(
        db,
        plan.parents,
        window_s=plan.incident_window_s,
        watched={r.name: r.selector.name for r in plan.rules if r.selector and r.selector.name},
        correlation=config.alerting.incident_correlation,
    )
    if not config.procedures:
        return {"on_firing": [tracker.on_firing], "on_evaluated": [tracker.on_evaluated]}
    from tasks.recovery.remediation import Remediator

    remediator = Remediator(config, db, plan)
    return {
        "on_firing": [tracker.on_firing, remediator.on_firing],
        "on_evaluated": [tracker.on_evaluated, remediator.on_evaluated],
    }


def stop_alerting(engine: AlertEngine) -> None:
    """Unsubscribe ``engine``, stop its deliverer and close its connections."""
    if engine.on_batch in SUBSCRIBERS:
        SUBSCRIBERS.remove(engine.on_batch)
    engine.outbox.stop()
    engine.db.dispose()


@contextmanager
def alerting_on_batches(
    config: VigilConfig, db_url: str, *, is_always: bool = False
) -> Iterator[AlertEngine | None]:
    """Evaluate ``config``'s rules on every batch written inside the block (none: no-op).

    ``is_always`` starts the engine even without rules: external alerts still arrive.
    """
    if not has_rules(alert_rules(config), config.self_watch) and not is_always:
        yield None
        return
    engine = start_alerting(config, db_url)
    try:
        yield engine
    finally:
        stop_alerting(engine)
