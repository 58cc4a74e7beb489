"""API fixtures: Vigil's push app (with the compatibility routers) served on loopback."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from tests.collect.conftest import throwaway_pg  # noqa: F401  (a PostgreSQL of its own to stop)


class Served:
    """An ASGI app served by uvicorn on a loopback port of its own, in a thread."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([self.sock],), daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def serve() -> Iterator:
    """Serve apps for one test; stop them afterwards."""
    started: list[Served] = []

    def start(app: FastAPI) -> Served:
        started.append(Served(app))
        return started[-1]

    yield start
    for served in started:
        served.close()
