"""Health checks as the Health and Overview pages read them: states, results, health scores."""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select
from sqlmodel import col

from models.checks import CheckResult, CheckStateRecord, HealthScoreRecord
from tasks.core.alerting.flapping import FlapParams, replay
from tasks.queries.frames import aware, utc, utc_columns

if TYPE_CHECKING:
    import pandas as pd

TABLES = (CheckStateRecord, CheckResult, HealthScoreRecord)
STATE_COLUMNS = (
    CheckStateRecord.check, CheckStateRecord.target, CheckStateRecord.status,
    CheckStateRecord.is_hard, CheckStateRecord.failures, CheckStateRecord.since,
    CheckStateRecord.checked_at, CheckStateRecord.message,
)  # fmt: skip
HISTORY_COLUMNS = (
    CheckResult.at, CheckResult.status, CheckResult.is_hard, CheckResult.latency_ms,
    CheckResult.message,
)  # fmt: skip
SCORE_COLUMNS = (
    HealthScoreRecord.node,
    HealthScoreRecord.at,
    HealthScoreRecord.score,
    HealthScoreRecord.level,
)


def check_states(
    engine: Engine, *, since: datetime, flap: FlapParams = FlapParams()
) -> "pd.DataFrame":
    """Return each check's current state with ``changes``/``is_flapping`` from its results.

    Columns: ``check, target, status, state`` (hard/soft), ``failures, since, checked_at,
    message, changes, is_flapping``. A check's results since ``since`` (``late`` ones say
    nothing: the check did not run) are judged as the alerting engine judges flapping
    (``flap``: vigil.yaml's ``alerting.flapping``); ``changes`` are the status changes
    within the flap window of its newest result.
    """
    import pandas as pd

    query = select(*STATE_COLUMNS).order_by(CheckStateRecord.target, CheckStateRecord.check)
    results = (
        select(CheckResult.check, CheckResult.at, CheckResult.status)
        .where(col(CheckResult.at) >= since, col(CheckResult.status) != "late")
        .order_by(CheckResult.check, CheckResult.at)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
        timelines = _timelines(conn.execute(results).all())
    frame = pd.DataFrame(rows, columns=[c.key for c in STATE_COLUMNS])
    judged = [replay(timelines.get(check, []), flap) for check in frame["check"]]
    frame["changes"] = pd.Series([len(changes) for changes, _ in judged], dtype="int64")
    frame["is_flapping"] = pd.Series([is_flapping for _, is_flapping in judged], dtype="bool")
    frame.insert(3, "state", frame.pop("is_hard").map({True: "hard", False: "soft"}))
    return utc_columns(frame, "since", "checked_at")


def _timelines(results: Sequence[tuple]) -> dict[str, list[tuple[float, str]]]:  # type: ignore[type-arg]
    """Each check's ``(epoch seconds, status)`` results, oldest first."""
    grouped: dict[str, list[tuple[float, str]]] = {}
    for check, at, status in results:
        grouped.setdefault(check, []).append((aware(at).timestamp(), status))  # type: ignore[union-attr]
    return grouped


def check_history(engine: Engine, check: str, *, since: datetime) -> "pd.DataFrame":
    """Return the results of ``check`` since ``since``.

    Columns: ``at, status, is_hard, latency_ms, message``.
    """
    import pandas as pd

    query = (
        select(*HISTORY_COLUMNS)
        .where(col(CheckResult.check) == check, col(CheckResult.at) >= since)
        .order_by(CheckResult.at)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=[c.key for c in HISTORY_COLUMNS])
    frame["at"] = utc(frame["at"])
    return frame.astype({"latency_ms": "float64"})


def newest_health(engine: Engine, scope: str) -> "pd.DataFrame":
    """Return the newest score of each node of ``scope``: ``node, at, score, level``."""
    h = HealthScoreRecord
    newest = (
        select(h.node, func.max(h.at).label("at")).where(col(h.scope) == scope).group_by(h.node)
    ).subquery()
    query = (
        select(*SCORE_COLUMNS)
        .join(newest, (col(h.node) == newest.c.node) & (col(h.at) == newest.c.at))
        .where(col(h.scope) == scope)
        .order_by(h.node)
    )
    return _scores(engine, query)


def health_trend(engine: Engine, scope: str, *, since: datetime) -> "pd.DataFrame":
    """Return the scores of ``scope`` since ``since``: ``node, at, score, level``."""
    h = HealthScoreRecord
    query = (
        select(*SCORE_COLUMNS)
        .where(col(h.scope) == scope, col(h.at) >= since)
        .order_by(h.node, h.at)
    )
    return _scores(engine, query)


def _scores(engine: Engine, query) -> "pd.DataFrame":  # type: ignore[no-untyped-def]
    import pandas as pd

    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=[c.key for c in SCORE_COLUMNS])
    frame["at"] = utc(frame["at"])
    return frame.astype({"score": "float64"})


def last_check_at(engine: Engine) -> datetime | None:
    """Return when any check last ran, or None."""
    with engine.connect() as conn:
        return aware(conn.scalar(select(func.max(CheckStateRecord.checked_at))))
