"""A Prefect API for a one-off command: the configured one, or a private server that dies with us.

Without ``PREFECT_API_URL`` Prefect starts a temporary server of its own, and a `kill -9` of the
command orphans it. The server started here is the same (Prefect's app on uvicorn, UI off,
its database in PREFECT_HOME) but gets SIGTERM when its parent dies, however it dies.
"""

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import httpx

from deployments.supervisor import die_with_parent
from models.errors import VigilError

LEASE_STORAGE = "prefect.server.concurrency.lease_storage.filesystem"


@contextmanager
def tied_to_this_process(say: Callable[[str], None]) -> Iterator[None]:
    """Run flows whose runs and Prefect server do not outlive this process.

    The runs are tagged with this process, so the next command marks them Crashed if this
    one was killed; a private Prefect server gets SIGTERM when this process dies.
    """
    from prefect import tags

    from deployments.stale_runs_api import crash_runs_of_dead_processes, this_process_tags

    with prefect_api():
        crash_runs_of_dead_processes(say)
        with tags(*this_process_tags()):
            yield


@contextmanager
def prefect_api() -> Iterator[str]:
    """Yield the API URL flows of this process report to, starting a private server if needed."""
    import prefect
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        get_current_settings,
        temporary_settings,
    )

    configured = PREFECT_API_URL.value()
    if configured:
        yield configured
        return
    port = _free_port()
    env = {
        **os.environ,
        **get_current_settings().to_environment_variables(exclude_unset=True),
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # as under `vigil up`: no telemetry
        # Leases in PREFECT_HOME, not in this server's memory: after a kill -9 the next
        # command's server still has the dead run's lease, and frees exactly that slot.
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": LEASE_STORAGE,
    }
    argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent)]
    argv += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "error", "--lifespan", "on"]
    server = subprocess.Popen(argv, env=env, preexec_fn=die_with_parent)
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(server, url, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
        with temporary_settings({PREFECT_API_URL: url}):
            yield url
    finally:
        _send_what_is_queued()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _send_what_is_queued() -> None:
    """Deliver queued logs and events while the server still answers (as Prefect does)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    EventsWorker.drain_all(timeout=5)


def _wait_healthy(server: subprocess.Popen[bytes], url: str, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise VigilError(f"the temporary Prefect server exited with code {server.returncode}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise VigilError(f"the temporary Prefect server did not answer within {timeout_seconds:g}s")


def _free_port() -> int:
    """A free port where Prefect looks for one (8000-8999), not the range the OS hands out."""
    for _ in range(50):
        port = random.randrange(8000, 9000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise VigilError("no free port in 8000-8999 for the temporary Prefect server")
