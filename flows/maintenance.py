"""The maintenance flow: rollups, then retention (nothing goes before it is summarised), reclaim."""

from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger

from models.config import load_config
from models.db import make_engine
from models.settings import get_settings
from tasks.store.flow_timing import timed_run
from tasks.store.upkeep import apply_retention, reclaim_space, roll_up_recent


@flow(name="maintenance")
@timed_run("maintenance")
def maintenance(lookback_seconds: float = 3 * 3600) -> dict[str, int]:
    """Roll up the last ``lookback_seconds`` (run it more often than that), then trim old data.

    Samples pushed with timestamps older than the lookback are kept raw but not rolled up
    unless a run with a longer lookback covers them. The config and the store are the
    serving process's (``VIGIL_CONFIG_PATH``, ``VIGIL_DATABASE_URL``), and the time is the
    clock's: a caller who could pass ``now`` could make retention delete everything.
    """
    settings = get_settings()
    config = load_config(settings.config_path)
    now = datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        written = roll_up_recent(engine, now, timedelta(seconds=lookback_seconds))
        deleted = apply_retention(engine, now, config.collectors.retention)
        reclaimed = reclaim_space(engine)
    finally:
        engine.dispose()
    get_run_logger().info("rollups %s; deleted %s; %s", written, deleted, reclaimed)
    return {**written, **{f"deleted_{table}": n for table, n in deleted.items()}}
