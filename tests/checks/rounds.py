"""Run every configured check once, as a check window's forced first round does."""

import asyncio
from datetime import datetime

from sqlalchemy import Engine

from models.config.root import VigilConfig
from models.store import MetricStore
from tasks.checks.context import ProbeContext
from tasks.checks.store import CheckStore
from tasks.checks.window import CheckWindow


def run_round(config: VigilConfig, engine: Engine, store: MetricStore, moment: datetime) -> None:
    """Probe every check of ``config`` once at ``moment``; store results as production does."""

    async def main() -> None:
        ctx = ProbeContext(store=store)
        window = CheckWindow(config, CheckStore(engine, store), ctx, clock=lambda: moment)
        try:
            await window.run(0, force=True)
        finally:
            await ctx.aclose()

    asyncio.run(main())
