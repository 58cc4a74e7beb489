"""Read the operations figures of a span from the store: alerts, acks, recoveries, models."""

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlmodel import col

from models.alerting import Alert, AlertEvent, AlertEventKind, AlertTransition
from models.analytics import ModelStatus, ModelVersion
from models.dismissal import AlertDismissal
from models.metrics import Series
from models.recovery import RecoveryRun
from models.vocabulary.labels import parse_canonical
from models.vocabulary.run_states import RunState
from tasks.core.slo.operations import Episode, OperationsFigures, episodes, operations_figures

FINISHED = (RunState.SUCCEEDED, RunState.FAILED)


def alert_episodes(engine: Engine, since: datetime, until: datetime) -> list[Episode]:
    """Every firing that began within the span, with its ack, end and fixing procedure."""
    tr = AlertTransition
    query = (
        select(col(tr.alert_id), col(tr.rule), col(tr.to_state), col(tr.at), col(Alert.labels))
        .join(Alert, col(Alert.id) == col(tr.alert_id))
        .where(col(tr.at) >= since, col(tr.at) <= until)
        .order_by(col(tr.at), col(tr.id))
    )
    acks = select(col(AlertEvent.alert_id), col(AlertEvent.at)).where(
        col(AlertEvent.kind) == AlertEventKind.ACKNOWLEDGED,
        col(AlertEvent.at) >= since,
        col(AlertEvent.at) <= until,
    )
    fixes = select(
        col(RecoveryRun.procedure),
        col(RecoveryRun.trigger),
        col(RecoveryRun.target),
        col(RecoveryRun.finished_at),
    ).where(
        col(RecoveryRun.state) == RunState.SUCCEEDED,
        col(RecoveryRun.trigger).startswith("alert:"),
        col(RecoveryRun.finished_at) >= since,
    )
    with engine.connect() as conn:
        moves = [
            (alert_id, rule, state, _epoch(at), parse_canonical(labels).get("target", ""))
            for alert_id, rule, state, at, labels in conn.execute(query)
        ]
        acked = [(alert_id, _epoch(at)) for alert_id, at in conn.execute(acks)]
        fixed = [
            (proc, trigger.removeprefix("alert:"), target, _epoch(at))
            for proc, trigger, target, at in conn.execute(fixes)
        ]
    found = episodes(moves, acked, fixed)
    return [e for e in found if e.fired_at >= since.timestamp()]


def operations_report(engine: Engine, since: datetime, until: datetime) -> OperationsFigures:
    """MTTA, MTTR, auto-fixed share, recovery success, alerts and dismissals per rule."""
    runs = select(col(RecoveryRun.procedure), col(RecoveryRun.state)).where(
        col(RecoveryRun.state).in_(FINISHED),
        col(RecoveryRun.is_dry_run).is_(False),
        col(RecoveryRun.finished_at) >= since,
        col(RecoveryRun.finished_at) <= until,
    )
    dismissed = select(col(AlertDismissal.rule)).where(
        col(AlertDismissal.created_at) >= since, col(AlertDismissal.created_at) <= until
    )
    with engine.connect() as conn:
        finished = [(procedure, str(state)) for procedure, state in conn.execute(runs)]
        rules = [rule for (rule,) in conn.execute(dismissed)]
    return operations_figures(alert_episodes(engine, since, until), finished, rules)


def forecast_accuracy(engine: Engine) -> list[dict]:
    """Each forecast series' current model and its backtest MASE (below 1 beats naive)."""
    query = (
        select(
            col(Series.name),
            col(Series.labels),
            col(ModelVersion.model),
            col(ModelVersion.backtest_mase),
        )
        .join(Series, col(Series.id) == col(ModelVersion.series_id))
        .where(col(ModelVersion.status) == ModelStatus.CURRENT)
        .order_by(col(ModelVersion.backtest_mase).desc())
    )
    with engine.connect() as conn:
        return [
            {"series": name, "labels": labels, "model": model, "mase": mase}
            for name, labels, model, mase in conn.execute(query)
        ]


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
