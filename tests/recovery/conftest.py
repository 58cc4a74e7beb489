"""Recovery fixtures: a migrated SQLite store, config files and a real child HTTP service."""

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from models.migrate import upgrade
from tests.ports import free_port


@pytest.fixture
def recovery_db(tmp_path: Path) -> str:
    """A migrated SQLite store in a file of its own."""
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    return url


@pytest.fixture
def write_config(tmp_path: Path, recovery_db: str, serve_with) -> Callable[[str], str]:  # type: ignore[no-untyped-def]
    """Write vigil.yaml text to a file, serve it with ``recovery_db``, and return its path.

    The recover flow reads both from the settings of the process that runs it.
    """

    def write(text: str) -> str:
        path = tmp_path / "vigil.yaml"
        path.write_text(text)
        serve_with(path, recovery_db)
        return str(path)

    return write


@dataclass
class Service:
    """A small real HTTP service run as a child process, known by its pidfile."""

    port: int
    pidfile: Path
    root: Path

    @property
    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "http.server",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(self.root),
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def pid(self) -> int:
        return int(self.pidfile.read_text())

    def is_answering(self) -> bool:
        try:
            return httpx.get(self.url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_answering(self, within_s: float = 10) -> None:
        deadline = time.monotonic() + within_s
        while not self.is_answering():
            assert time.monotonic() < deadline, "service did not come up"
            time.sleep(0.05)


def is_alive(pid: int) -> bool:
    """True while ``pid`` is a live (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """Start the service once (as an operator would) and stop whatever runs at the end."""
    import subprocess

    root = tmp_path / "www"
    root.mkdir()
    svc = Service(free_port(), tmp_path / "service.pid", root)
    child = subprocess.Popen(
        svc.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    svc.pidfile.write_text(f"{child.pid}\n")
    svc.wait_answering()
    yield svc
    for pid in {child.pid, svc.pid()}:
        if is_alive(pid):
            os.kill(pid, signal.SIGKILL)
    child.wait(timeout=5)
