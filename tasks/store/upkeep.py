"""Store upkeep: roll recent raw samples up into 1m/1h buckets, delete what is too old, reclaim."""

from datetime import datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, text

from models.config.collectors import Retention
from models.db import is_sqlite
from models.rollups import delete_older, roll_up
from tasks.store import shared_counters
from tasks.store.retention import trim_everything
from tasks.store.shared_counters import RETENTION_DELETED

ANALYZE_AFTER_ROWS = 10_000  # PostgreSQL: refresh the planner's statistics after this many


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


@task(cache_policy=NO_CACHE)
def roll_up_recent(engine: Engine, now: datetime, lookback: timedelta) -> dict[str, int]:
    """Recompute the rollups of every minute and hour in ``[now - lookback, now]``."""
    minutes, hours = roll_up(engine, _ms(now - lookback), _ms(now))
    return {"rollup_1m": minutes, "rollup_1h": hours}


@task(cache_policy=NO_CACHE)
def apply_retention(engine: Engine, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete everything older than its retention, in batches; return rows deleted per table."""
    deleted = delete_older(
        engine,
        raw_ms=_ms(now - retention.raw),
        minute_ms=_ms(now - retention.rollup_1m),
        hour_ms=_ms(now - retention.rollup_1h),
        batch_rows=retention.batch_rows,
    )
    with engine.begin() as conn:
        shared_counters.add(
            conn, [(RETENTION_DELETED, {"table": t}, float(k)) for t, k in deleted.items() if k]
        )
    return deleted | trim_everything(engine, now, retention)


@task(cache_policy=NO_CACHE)
def reclaim_space(engine: Engine, deleted: dict[str, int]) -> str:
    """Give freed space back (SQLite) or refresh statistics (PostgreSQL); say what was done."""
    if is_sqlite(engine):
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA auto_vacuum").scalar()
            if mode == 2:  # INCREMENTAL: free pages go back to the file system
                raw = conn.connection.driver_connection
                assert raw is not None
                # sqlite3's execute() steps a row-less pragma once (one page); a script runs it out
                raw.executescript("PRAGMA incremental_vacuum;")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()
            conn.commit()
        if mode != 2:
            return "sqlite: free pages are reused; run VACUUM once to enable incremental vacuum"
        return "sqlite: incremental vacuum"
    tables = sorted(table for table, rows in deleted.items() if rows >= ANALYZE_AFTER_ROWS)
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"ANALYZE {table}"))
    return f"postgresql: analysed {', '.join(tables) or 'nothing'}"
