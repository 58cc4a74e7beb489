"""Open what a window of checks needs (config, store, clients), run it, close everything."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from models.config import load_config
from models.db import make_engine
from models.store import MetricStore
from tasks.checks.context import ProbeContext
from tasks.checks.store import CheckStore
from tasks.checks.window import CheckWindow, WindowSummary


def utc_now() -> datetime:
    """The production clock."""
    return datetime.now(UTC)


def run_check_window(
    config_path: str | Path,
    database_url: str,
    *,
    window_s: float,
    force: bool = False,
    tick_s: float = 1.0,
) -> WindowSummary:
    """Run the configured checks for ``window_s`` seconds against the store at ``database_url``.

    Raises:
        ConfigError: the config file is missing or invalid.
    """
    config = load_config(config_path)
    engine = make_engine(database_url)
    store = MetricStore(engine)
    ctx = ProbeContext(store=store)

    async def main() -> WindowSummary:
        window = CheckWindow(config, CheckStore(engine, store), ctx, clock=utc_now, tick_s=tick_s)
        try:
            return await window.run(window_s, force=force)
        finally:
            await ctx.aclose()

    try:
        return asyncio.run(main())
    finally:
        engine.dispose()
