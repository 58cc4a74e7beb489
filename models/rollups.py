"""Rollup tables (1 minute, 1 hour) and the SQL that fills them and trims old data.

A rollup row summarises one series over one bucket: min, max, avg, count and the last
value (with its timestamp, so coarser rollups can find the last of the last).
"""

from sqlalchemy import BigInteger, Connection, Engine, text
from sqlmodel import Field, SQLModel

from models.batched import delete_where


class _RollupColumns(SQLModel):
    series_id: int = Field(primary_key=True)
    bucket_ms: int = Field(primary_key=True, sa_type=BigInteger)
    min_value: float
    max_value: float
    avg_value: float
    sample_count: int
    last_value: float
    last_ts_ms: int = Field(sa_type=BigInteger)


class Rollup1m(_RollupColumns, table=True):
    """One series summarised over one minute (``bucket_ms`` = start of the minute)."""

    __tablename__ = "rollup_1m"
    __table_args__ = {"sqlite_with_rowid": False}


class Rollup1h(_RollupColumns, table=True):
    """One series summarised over one hour (``bucket_ms`` = start of the hour)."""

    __tablename__ = "rollup_1h"
    __table_args__ = {"sqlite_with_rowid": False}


_UPSERT = """
ON CONFLICT (series_id, bucket_ms) DO UPDATE SET
  min_value = excluded.min_value, max_value = excluded.max_value,
  avg_value = excluded.avg_value, sample_count = excluded.sample_count,
  last_value = excluded.last_value, last_ts_ms = excluded.last_ts_ms
"""
_COLUMNS = (
    "series_id, bucket_ms, min_value, max_value, avg_value, sample_count, last_value, last_ts_ms"
)

# "WHERE 1 = 1" keeps SQLite from reading ON CONFLICT as part of the join.
_MINUTES_FROM_RAW = f"""
INSERT INTO rollup_1m ({_COLUMNS})
SELECT agg.series_id, agg.bucket_ms, agg.mn, agg.mx, agg.av, agg.n, s.value, agg.last_ts
FROM (
  SELECT series_id, (ts_ms / 60000) * 60000 AS bucket_ms, MIN(value) AS mn, MAX(value) AS mx,
         AVG(value) AS av, COUNT(*) AS n, MAX(ts_ms) AS last_ts
  FROM sample WHERE ts_ms >= :start AND ts_ms < :end
  GROUP BY series_id, (ts_ms / 60000) * 60000
) agg JOIN sample s ON s.series_id = agg.series_id AND s.ts_ms = agg.last_ts
WHERE 1 = 1
{_UPSERT}
"""

_HOURS_FROM_MINUTES = f"""
INSERT INTO rollup_1h ({_COLUMNS})
SELECT agg.series_id, agg.bucket_ms, agg.mn, agg.mx, agg.av, agg.n, r.last_value, agg.last_ts
FROM (
  SELECT series_id, (bucket_ms / 3600000) * 3600000 AS bucket_ms, MIN(min_value) AS mn,
         MAX(max_value) AS mx, SUM(avg_value * sample_count) / SUM(sample_count) AS av,
         SUM(sample_count) AS n, MAX(last_ts_ms) AS last_ts
  FROM rollup_1m WHERE bucket_ms >= :start AND bucket_ms < :end
  GROUP BY series_id, (bucket_ms / 3600000) * 3600000
) agg JOIN rollup_1m r ON r.series_id = agg.series_id AND r.last_ts_ms = agg.last_ts
WHERE 1 = 1
{_UPSERT}
"""


def roll_up(engine: Engine, start_ms: int, end_ms: int) -> tuple[int, int]:
    """(Re)compute the rollups of every minute and hour touched by ``[start_ms, end_ms)``.

    Buckets are widened to whole minutes and hours, so recomputing is idempotent and a
    partly filled bucket is completed on the next run. Returns the rows written per table.
    """
    minute_start, hour_start = start_ms - start_ms % 60_000, start_ms - start_ms % 3_600_000
    minute_end = end_ms + (-end_ms % 60_000)
    hour_end = end_ms + (-end_ms % 3_600_000)
    with engine.begin() as conn:
        minutes = _run(conn, _MINUTES_FROM_RAW, minute_start, minute_end)
        hours = _run(conn, _HOURS_FROM_MINUTES, hour_start, hour_end)
    return minutes, hours


def delete_older(
    engine: Engine, *, raw_ms: int, minute_ms: int, hour_ms: int, batch_rows: int = 5000
) -> dict[str, int]:
    """Delete raw samples and rollups older than their cut-offs, in batches; count per table."""
    cutoffs = {"sample": ("ts_ms", raw_ms), "rollup_1m": ("bucket_ms", minute_ms)}
    cutoffs["rollup_1h"] = ("bucket_ms", hour_ms)
    return {
        table: delete_where(
            engine,
            table,
            ("series_id", column),
            f"{column} < :cutoff",
            {"cutoff": cutoff},
            batch_rows=batch_rows,
        )
        for table, (column, cutoff) in cutoffs.items()
    }


def _run(conn: Connection, sql: str, start: int, end: int) -> int:
    return conn.execute(text(sql), {"start": start, "end": end}).rowcount
