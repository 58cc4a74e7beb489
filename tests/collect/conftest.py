"""Real targets for collection tests: exposition server, node exporter, processes, PostgreSQL."""

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port
from tests.throwaway_pg import ThrowawayPostgres, server_bin

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"


class ExpositionServer:
    """A small HTTP server of the test's own: serves ``page`` on /metrics with ``status``."""

    def __init__(self) -> None:
        self.page = "up_since_seconds 1\n"
        self.status = 200
        self.requests = 0
        self.before_answer: Callable[[int], None] = lambda count: None  # what a test injects
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                owner.before_answer(owner.requests)
                body = owner.page.encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/metrics"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def exposition_server() -> Iterator[ExpositionServer]:
    server = ExpositionServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def node_exporter() -> Iterator[str]:
    """Debian's prometheus-node-exporter on a free loopback port; yields its /metrics URL."""
    if not Path(NODE_EXPORTER).exists():
        pytest.fail(f"{NODE_EXPORTER} is missing: run scripts/system-deps.sh")
    port = free_port()
    proc = subprocess.Popen(
        [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url, timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"node exporter did not answer on {url}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


class Children:
    """Child processes the test starts, kills and restarts; all are reaped at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.procs: list[subprocess.Popen] = []
        self.token = uuid.uuid4().hex[:8]
        self.exe = tmp_path / f"vs{self.token}"  # a unique executable name to find by name
        shutil.copy("/bin/sleep", self.exe)

    def sleeper(self) -> subprocess.Popen:
        """Start the uniquely named copy of sleep."""
        return self._start([str(self.exe), "600"])

    def python(self, tag: str) -> subprocess.Popen:
        """Start a Python child whose command line carries ``tag``."""
        return self._start([sys.executable, "-c", "import time; time.sleep(600)", tag])

    def _start(self, argv: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(argv)
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        proc.kill()
        proc.wait(timeout=10)  # reaped, so it is gone rather than a zombie

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)


@pytest.fixture
def children(tmp_path: Path) -> Iterator[Children]:
    kids = Children(tmp_path)
    yield kids
    kids.close()


@pytest.fixture
def throwaway_pg() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server of the test's own, started; the test may stop and start it."""
    bin_dir = server_bin()
    if bin_dir is None:
        message = "no PostgreSQL server binaries under /usr/lib/postgresql"
        if os.environ.get("VIGIL_REQUIRE_PG"):
            pytest.fail(message)
        pytest.skip(message)
    server = ThrowawayPostgres(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.destroy()
