"""Store check results, states and scores; write them as metric samples; tell alerting."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from models.checks import CheckResult, CheckStateRecord, HealthScoreRecord
from models.db import is_sqlite
from models.errors import StoreError
from models.metrics import MetricKind
from models.store import MetricStore, NewSample
from tasks.checks.status_store import newest_scores
from tasks.core.checks.health_score import HealthLevel, Scope, Score
from tasks.core.checks.machine import CheckState
from tasks.core.checks.round import Resolved
from tasks.core.checks.state import CheckStatus
from tasks.store import shared_counters
from tasks.store.batch_hooks import BatchWritten, publish
from tasks.store.shared_counters import CHECKS_LATE, CHECKS_RUN

UP_VALUE = {CheckStatus.UP: 1.0, CheckStatus.DOWN: 0.0}


class CheckStore:
    """Write each batch of resolved checks in one transaction, then publish it.

    A late run (Vigil could not start it on time) is stored as a ``late`` result and
    counted in ``vigil_checks_late_total``; the check's stored state is left as it was
    and alerting does not hear of it, since it says nothing about the target.
    """

    def __init__(self, engine: Engine, store: MetricStore | None = None) -> None:
        self.engine = engine
        self.store = store

    def load_states(self) -> dict[str, CheckState]:
        """Return every check's stored state (a restart continues counting from here)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(CheckStateRecord)).all()  # type: ignore[call-overload]
        return {
            row.check: CheckState(
                CheckStatus(row.status),
                row.is_hard,
                row.failures,
                row.passes,
                _aware(row.since),
                _aware(row.checked_at),
            )
            for row in rows
        }

    def last_scores(self) -> dict[tuple[str, str], tuple[HealthLevel, float]]:
        """Return the level and time (epoch s) of each node's newest stored score."""
        scopes = tuple(str(scope) for scope in Scope)
        return {
            (row["scope"], row["node"]): (HealthLevel(row["level"]), _epoch_s(row["at"]))
            for row in newest_scores(self.engine, scopes)
        }

    def record(self, resolved: Sequence[Resolved], scores: Sequence[Score], now: datetime) -> int:
        """Store results, new states and scores; write samples; publish the batch.

        Returns:
            The number of metric samples the store accepted.
        """
        ran = [r for r in resolved if not r.outcome.is_late]  # late: the stored state stays
        with self.engine.begin() as conn:
            if resolved:
                conn.execute(insert(CheckResult), [_result_row(r) for r in resolved])
            if ran:
                conn.execute(self._upsert_states(), [_state_row(r) for r in ran])
            if scores:
                conn.execute(insert(HealthScoreRecord), [_score_row(s, now) for s in scores])
            late = len(resolved) - len(ran)
            shared_counters.add(
                conn,
                [(CHECKS_RUN, {"state": str(r.report.status)}, 1.0) for r in ran]
                + ([(CHECKS_LATE, {}, float(late))] if late else []),
            )
        samples = samples_of(resolved, scores, now)
        accepted = 0
        if self.store is not None and samples:
            try:
                accepted = self.store.write(samples).accepted
            except StoreError:  # results are stored; samples are a convenience for rules
                samples = []
        publish(BatchWritten("checks", now, samples, check_results=[r.report for r in ran]))
        return accepted

    def _upsert_states(self):  # type: ignore[no-untyped-def]
        dialect = sqlite if is_sqlite(self.engine) else postgresql
        statement = dialect.insert(CheckStateRecord)
        columns = ("target", "status", "is_hard", "failures", "passes", "since", "checked_at")
        return statement.on_conflict_do_update(
            index_elements=["check"],
            set_={name: statement.excluded[name] for name in (*columns, "message")},
        )


def samples_of(
    resolved: Sequence[Resolved], scores: Sequence[Score], now: datetime
) -> list[NewSample]:
    """Return ``check_up`` (1/0), ``check_latency_ms`` and ``health_score`` samples.

    Also ``checks_late``: how many of the batch Vigil could not start on time (0 too,
    so a rule on it clears once Vigil keeps up again).
    """
    ts = now.timestamp()
    late = sum(item.outcome.is_late for item in resolved)
    samples = [NewSample("checks_late", {}, ts, float(late))] if resolved else []
    for item in resolved:
        labels = {"check": item.spec.name, "target": item.spec.target}
        if item.state.status in UP_VALUE:
            samples.append(NewSample("check_up", labels, ts, UP_VALUE[item.state.status]))
        if item.outcome.latency_ms is not None:
            latency = item.outcome.latency_ms
            samples.append(
                NewSample("check_latency_ms", labels, ts, latency, MetricKind.GAUGE, "ms")
            )
    for score in scores:
        if score.score is not None:
            labels = {"scope": str(score.scope), "node": score.name}
            samples.append(NewSample("health_score", labels, ts, score.score))
    return samples


def _result_row(item: Resolved) -> dict:
    return {
        "check": item.spec.name,
        "target": item.spec.target,
        "component": item.spec.component,
        "at": item.report.at,
        "status": str(item.report.status),
        "is_hard": item.report.is_hard,
        "attempt": item.state.attempt,
        "tries": item.outcome.tries,
        "latency_ms": item.outcome.latency_ms,
        "message": item.report.message,
    }


def _state_row(item: Resolved) -> dict:
    state = item.state
    return {
        "check": item.spec.name,
        "target": item.spec.target,
        "status": str(state.status),
        "is_hard": state.is_hard,
        "failures": state.failures,
        "passes": state.passes,
        "since": state.since,
        "checked_at": state.checked_at,
        "message": item.report.message,
    }


def _score_row(score: Score, now: datetime) -> dict:
    return {
        "at": now,
        "scope": str(score.scope),
        "node": score.name,
        "score": score.score,
        "level": str(score.level),
    }


def _epoch_s(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
