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

DEAD_ROWS_MIN = 1_000  # PostgreSQL: vacuum a table with this many dead rows (and 10 % of live)
DEAD_TABLES = text(
    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
    "AND n_dead_tup >= :least AND n_dead_tup >= n_live_tup / 10 ORDER BY relname"
)


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
def reclaim_space(engine: Engine) -> str:
    """Give freed space back (SQLite) or make it reusable (PostgreSQL); say what was done.

    PostgreSQL: each table with at least ``DEAD_ROWS_MIN`` dead rows, and a tenth as many as
    live ones, is vacuumed and analysed. Dead rows come from retention's deletes and from
    the rollups' upserts; until a VACUUM they stay on disk, and autovacuum (off on some
    servers, late on busy ones) cannot be relied on: the store would grow though its row
    counts are steady. Plain VACUUM blocks neither reads nor writes.
    """
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
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = conn.execute(DEAD_TABLES, {"least": DEAD_ROWS_MIN}).scalars().all()
        for table in tables:  # VACUUM cannot run inside a transaction
            conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))
    return f"postgresql: vacuumed and analysed {', '.join(tables) or 'nothing'}"
