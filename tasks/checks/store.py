"""Store check results, states and scores; write them as metric samples; tell alerting."""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from models.checks import CheckResult, CheckStateRecord, HealthScoreRecord
from models.db import is_sqlite
from models.errors import StoreError
from models.metrics import MetricKind
from models.store import MetricStore, NewSample, is_unreachable, one_line
from tasks.checks.status_store import newest_scores
from tasks.core.checks.health_score import HealthLevel, Scope, Score
from tasks.core.checks.machine import CheckState
from tasks.core.checks.pending import CheckRows, PendingChecks
from tasks.core.checks.round import Resolved
from tasks.core.checks.state import CheckStatus
from tasks.store import shared_counters
from tasks.store.batch_hooks import BatchWritten, publish
from tasks.store.shared_counters import CHECKS_LATE, CHECKS_RUN

log = logging.getLogger(__name__)
UP_VALUE = {CheckStatus.UP: 1.0, CheckStatus.DOWN: 0.0}


class CheckStore:
    """Write each batch of resolved checks in one transaction, then publish it.

    A late run (Vigil could not start it on time) is stored as a ``late`` result and
    counted in ``vigil_checks_late_total``; the check's stored state is left as it was
    and alerting does not hear of it, since it says nothing about the target.

    While the store is unreachable, batches wait in ``pending`` (at most ``pending_limit``
    results, scores and samples; beyond that the oldest are dropped and counted) and go
    with the next batch the store takes, so an outage is recorded by the checks that saw
    it. Alerting hears of each batch when it is resolved, stored or not.
    """

    def __init__(
        self, engine: Engine, store: MetricStore | None = None, pending_limit: int = 100_000
    ) -> None:
        self.engine = engine
        self.store = store
        self.pending = PendingChecks(pending_limit)

    def load_states(self) -> dict[str, CheckState]:
        """Return every check's stored state (a restart continues counting from here).

        With the store unreachable, return none: counting starts afresh (logged).
        """
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(CheckStateRecord)).all()  # type: ignore[call-overload]
        except DBAPIError as exc:
            if not is_unreachable(exc):
                raise
            log.warning("check states not loaded, store unreachable (%s)", one_line(exc))
            return {}
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
        try:
            newest = newest_scores(self.engine, scopes)
        except DBAPIError as exc:
            if not is_unreachable(exc):
                raise
            return {}
        return {
            (row["scope"], row["node"]): (HealthLevel(row["level"]), _epoch_s(row["at"]))
            for row in newest
        }

    def record(self, resolved: Sequence[Resolved], scores: Sequence[Score], now: datetime) -> int:
        """Store results, new states and scores (and any held ones); write samples; publish.

        Returns:
            The number of metric samples the store accepted.
        """
        ran = [r for r in resolved if not r.outcome.is_late]  # late: the stored state stays
        late = len(resolved) - len(ran)
        fresh = samples_of(resolved, scores, now)
        self.pending.hold(
            CheckRows(
                [_result_row(r) for r in resolved],
                [_state_row(r) for r in ran],
                [_score_row(s, now) for s in scores],
                [(CHECKS_RUN, {"state": str(r.report.status)}, 1.0) for r in ran]
                + ([(CHECKS_LATE, {}, float(late))] if late else []),
                fresh,
            )
        )
        accepted = self.write_pending()
        stored = [] if len(self.pending.samples) else fresh  # held samples are not news yet
        publish(BatchWritten("checks", now, stored, check_results=[r.report for r in ran]))
        return accepted

    def write_pending(self) -> int:
        """Write every held row in one transaction, then the held samples.

        Returns:
            The number of metric samples the store accepted (0 while it is unreachable).
        """
        rows = self.pending.take()
        try:
            with self.engine.begin() as conn:
                _write_rows(conn, rows, self._upsert_states())
        except DBAPIError as exc:
            if not is_unreachable(exc):
                raise
            self.pending.hold(rows)
            log.warning(
                "%d check results wait for the store (%s)", len(self.pending), one_line(exc)
            )
            return 0
        if self.store is None or not rows.samples:
            return 0
        try:
            return self.store.write(rows.samples).accepted
        except StoreError:  # results are stored; the samples wait for the next batch
            self.pending.samples.hold(rows.samples)
            return 0

    def _upsert_states(self):  # type: ignore[no-untyped-def]
        dialect = sqlite if is_sqlite(self.engine) else postgresql
        statement = dialect.insert(CheckStateRecord)
        columns = ("target", "status", "is_hard", "failures", "passes", "since", "checked_at")
        return statement.on_conflict_do_update(
            index_elements=["check"],
            set_={name: statement.excluded[name] for name in (*columns, "message")},
        )


def _write_rows(conn: Connection, rows: CheckRows, upsert_states) -> None:  # type: ignore[no-untyped-def]
    if rows.results:
        conn.execute(insert(CheckResult), list(rows.results))
    if rows.states:
        conn.execute(upsert_states, list(rows.states))
    if rows.scores:
        conn.execute(insert(HealthScoreRecord), list(rows.scores))
    shared_counters.add(conn, rows.counts)


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
