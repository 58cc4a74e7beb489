"""Serve a Prefect Runner in a thread of its own inside a block, as `vigil serve` serves it
in its main thread; for the in-process runner's tests and bench/in_process.py."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
from prefect.runner import Runner


@contextmanager
def running(runner: Runner) -> Iterator[None]:
    """Run ``runner`` (its web server off) inside the block; stop it and wait on the way out."""
    stop = threading.Event()

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: runner.start(webserver=False))
            await anyio.to_thread.run_sync(stop.wait)
            await runner.astop()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="test-runner")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)
