"""Read check states and health scores (newest, and their history) for the CLI and dashboard."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select

from models.checks import CheckStateRecord, HealthScoreRecord

if TYPE_CHECKING:
    import pandas as pd


def current_states(engine: Engine) -> list[CheckStateRecord]:
    """Return every check's stored state, by target and name."""
    query = select(CheckStateRecord).order_by(CheckStateRecord.target, CheckStateRecord.check)
    with engine.connect() as conn:
        return [CheckStateRecord.model_validate(row._mapping) for row in conn.execute(query)]


def newest_scores(engine: Engine, scopes: tuple[str, ...] = ("target", "system")) -> list[dict]:
    """Return the newest score of each node in ``scopes``."""
    table = HealthScoreRecord.__table__  # type: ignore[attr-defined]
    newest = (
        select(table.c.scope, table.c.node, func.max(table.c.at).label("at"))
        .where(table.c.scope.in_(scopes))
        .group_by(table.c.scope, table.c.node)
        .subquery()
    )
    query = (
        select(table.c.scope, table.c.node, table.c.at, table.c.score, table.c.level)
        .join(
            newest,
            (table.c.scope == newest.c.scope)
            & (table.c.node == newest.c.node)
            & (table.c.at == newest.c.at),
        )
        .order_by(table.c.scope.desc(), table.c.node)
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def score_history(engine: Engine, *, scope: str, node: str, since: datetime) -> "pd.DataFrame":
    """Return the recorded scores of one node since ``since`` (columns at, score, level)."""
    table = HealthScoreRecord.__table__  # type: ignore[attr-defined]
    query = (
        select(table.c.at, table.c.score, table.c.level)
        .where(table.c.scope == scope, table.c.node == node, table.c.at >= since)
        .order_by(table.c.at)
    )
    with engine.connect() as conn:
        import pandas as pd  # only the dashboard asks for a history; the checks never do

        frame = pd.DataFrame(conn.execute(query).all(), columns=["at", "score", "level"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["score"] = frame["score"].astype("float64")
    return frame
