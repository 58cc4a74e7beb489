"""Store upkeep: roll recent raw samples up into 1m/1h buckets, then delete what is too old."""

from datetime import datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from models.config.collectors import Retention
from models.rollups import delete_older, roll_up


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


@task(cache_policy=NO_CACHE)
def roll_up_recent(engine: Engine, now: datetime, lookback: timedelta) -> dict[str, int]:
    """Recompute the rollups of every minute and hour in ``[now - lookback, now]``."""
    minutes, hours = roll_up(engine, _ms(now - lookback), _ms(now))
    return {"rollup_1m": minutes, "rollup_1h": hours}


@task(cache_policy=NO_CACHE)
def apply_retention(engine: Engine, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete raw samples and rollups older than their retention periods."""
    return delete_older(
        engine,
        raw_ms=_ms(now - retention.raw),
        minute_ms=_ms(now - retention.rollup_1m),
        hour_ms=_ms(now - retention.rollup_1h),
    )
