"""ASGI apps served by uvicorn in threads of this process (the compact layout of `vigil up`).

`vigil serve --with-prefect-server --with-api` runs the Prefect server (API, UI and its
services), Vigil's API and the deployment runner in one process: they import the same
Prefect, FastAPI, SQLAlchemy and Pydantic, which then sit in memory once, not three times.
If a served app stops while the process goes on, the process exits, so that `vigil up`
restarts it whole, as it restarts a crashed process of the isolated layout.
"""

import functools
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from deployments.supervisor import answers
from models.errors import VigilError
from models.settings import Settings

EXIT_APP_STOPPED = 3  # this process's exit code when a served app stops on its own

OpenServer = Callable[[], AbstractContextManager[Any]]  # yields an unstarted uvicorn.Server


@contextmanager
def served_in_thread(
    name: str, open_server: OpenServer, health_url: str, *, ready_timeout_seconds: float = 240.0
) -> Iterator[None]:
    """Serve what ``open_server`` yields in a new thread; enter the block once it is healthy.

    The server is built and run inside ``open_server``'s block, in the thread (so what that
    block sets for its context, such as the batches an alert engine hears, holds for the
    requests). Leaving the block stops the server.
    """
    stopping = threading.Event()
    servers: list[Any] = []

    def serve() -> None:
        try:
            with open_server() as server:
                servers.append(server)
                if not stopping.is_set():
                    server.run()
        except BaseException:  # uvicorn's SystemExit on a taken port included
            traceback.print_exc()
        finally:
            if not stopping.is_set():
                print(f"{name} stopped on its own: exiting, to be restarted", flush=True)
                sys.stderr.flush()
                os._exit(EXIT_APP_STOPPED)

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    try:
        _wait_healthy(name, health_url, ready_timeout_seconds)
        yield
    finally:
        stopping.set()
        for server in servers:
            server.should_exit = True
        thread.join(timeout=30)


def _wait_healthy(name: str, url: str, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not answers(url):
        if time.monotonic() > deadline:
            raise VigilError(f"{name} did not answer {url} within {timeout_seconds:g}s")
        time.sleep(0.3)


@contextmanager
def hosted_prefect_server(settings: Settings, say: Callable[[str], None]) -> Iterator[None]:
    """Serve the local Prefect server (``bind_host``:``prefect_port``) in a thread inside the block.

    Before the block, the runs a dead runner of this layout left are ended (the isolated
    layout's supervisor does that before it starts `vigil serve`).
    """
    from deployments.services import prefect_api_url
    from deployments.stale_runs_api import release_runs_left_by_runner

    api_url = prefect_api_url(settings)
    opened = functools.partial(prefect_server, settings.bind_host, settings.prefect_port)
    with served_in_thread("the Prefect server", opened, f"{api_url}/health"):
        credential = os.environ.get("PREFECT_API_AUTH_STRING")
        try:
            release_runs_left_by_runner(api_url, say, auth_string=credential)
        except Exception as exc:  # serving is still better than not (as the supervisor does)
            say(f"runs left by a dead runner not released: {type(exc).__name__}: {exc}")
        yield


@contextmanager
def prefect_server(host: str, port: int) -> Iterator[Any]:
    """Yield the local Prefect server (API, UI, services) as an unstarted uvicorn server.

    The app `prefect server start` runs; its settings come from the environment (for `vigil
    up`, deployments/services.py sets them).
    """
    import uvicorn
    from prefect.server.api.server import create_app

    config = uvicorn.Config(create_app(final=True), host=host, port=port, log_level="info")
    yield uvicorn.Server(config)
