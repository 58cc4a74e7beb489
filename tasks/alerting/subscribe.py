"""Wire alerting onto the batch seam: one engine per process, delivering in the background."""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import Engine

from models.config.root import VigilConfig
from models.config.slo import alert_rules
from models.db import make_engine
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.incidents import IncidentTracker
from tasks.alerting.plan import AlertingPlan, build_plan
from tasks.selfwatch.rules import has_rules
from tasks.store.batch_hooks import SUBSCRIBERS, subscribed


def start_alerting(config: VigilConfig, db_url: str) -> AlertEngine:
    """Build the engine for ``config``, start its deliverer and subscribe it to every batch.

    Every batch of the process reaches it, whichever thread writes it: call it once per
    process that owns one engine (the push server); ``stop_alerting`` undoes it.
    """
    engine = build_alerting(config, db_url)
    SUBSCRIBERS.append(engine.on_batch)
    return engine


def build_alerting(config: VigilConfig, db_url: str) -> AlertEngine:
    """Build the engine for ``config`` and start its deliverer, subscribed to nothing yet.

    Firing alerts request the recovery procedures mapped to their rule (remediating first
    where the rule says so).
    """
    db = make_engine(db_url)
    plan = build_plan(config)
    engine = AlertEngine(db, plan, store=MetricStore(db), **reactions(config, db, plan))
    engine.outbox.start()
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
    config: VigilConfig, db_url: str, *, is_always: bool = False, is_process_wide: bool = False
) -> Iterator[AlertEngine | None]:
    """Evaluate ``config``'s rules on every batch written inside the block (none: no-op).

    Only the batches this thread writes (a flow run's: runs share `vigil serve`), unless
    ``is_process_wide``: every batch of the process (a server writing from many threads).
    ``is_always`` starts the engine even without rules: external alerts still arrive.
    """
    if not has_rules(alert_rules(config), config.self_watch) and not is_always:
        yield None
        return
    if is_process_wide:
        engine = start_alerting(config, db_url)
        scope: AbstractContextManager = nullcontext()
    else:
        engine = build_alerting(config, db_url)
        scope = subscribed(engine.on_batch)
    try:
        with scope:
            yield engine
    finally:
        stop_alerting(engine)
