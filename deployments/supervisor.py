"""Start Vigil's processes, wait until each is healthy, and stop them all together.

Every service runs in its own process group with its log under ``<state_dir>/logs``;
``<state_dir>/up.json`` records who runs so `vigil status` and `vigil down` can find them.
"""

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from vigil.errors import VigilError

STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Service:
    """A long-running process of Vigil and how to tell that it is ready."""

    name: str
    argv: list[str]
    url: str
    health_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout_seconds: float = 90.0


@dataclass
class Running:
    """A started service."""

    service: Service
    process: subprocess.Popen[bytes]
    log_path: Path


class Supervisor:
    """Own the child processes of one `vigil up`."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.running: list[Running] = []

    @property
    def state_file(self) -> Path:
        return self.state_dir / "up.json"

    def start(self, services: Sequence[Service], echo=print) -> None:  # type: ignore[no-untyped-def]
        """Start ``services`` in order, each only once the previous one is healthy."""
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        for service in services:
            echo(f"starting {service.name} …")
            self.running.append(self._spawn(service))
            self._write_state(is_ready=False)
            self._wait_ready(self.running[-1])
        self._write_state(is_ready=True)

    def wait(self) -> Running | None:
        """Block until a service exits (returned) or Ctrl-C / SIGTERM arrives (None)."""
        try:
            while True:
                for running in self.running:
                    if running.process.poll() is not None:
                        return running
                time.sleep(0.5)
        except KeyboardInterrupt:
            return None

    def stop(self) -> None:
        """Stop every service, newest first: SIGTERM, then SIGKILL after a grace period."""
        for running in reversed(self.running):
            _stop_group(running.process)
        self.running.clear()
        self.state_file.unlink(missing_ok=True)

    def _spawn(self, service: Service) -> Running:
        log_path = self.state_dir / "logs" / f"{service.name}.log"
        with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                service.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **service.env},
                start_new_session=True,  # its own process group: stop takes its children too
            )
        return Running(service, process, log_path)

    def _wait_ready(self, running: Running) -> None:
        service = running.service
        deadline = time.monotonic() + service.ready_timeout_seconds
        while time.monotonic() < deadline:
            if running.process.poll() is not None:
                raise self._failed(running, f"exited with code {running.process.returncode}")
            if service.health_url is None or _answers(service.health_url):
                return
            time.sleep(0.3)
        raise self._failed(running, f"not healthy after {service.ready_timeout_seconds:g}s")

    def _failed(self, running: Running, why: str) -> VigilError:
        tail = running.log_path.read_text(errors="replace").splitlines()[-15:]
        self.stop()
        return VigilError(
            f"{running.service.name} {why}; last lines of {running.log_path}:\n" + "\n".join(tail)
        )

    def _write_state(self, *, is_ready: bool) -> None:
        state = {
            "pid": os.getpid(),
            "is_ready": is_ready,
            "services": [
                {**asdict(r.service), "pid": r.process.pid, "log": str(r.log_path)}
                for r in self.running
            ],
        }
        self.state_file.write_text(json.dumps(state, indent=2))


def read_state(state_dir: Path) -> dict | None:
    """Return what `vigil up` recorded in ``state_dir``, or None when nothing runs there."""
    path = state_dir / "up.json"
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    return state if _alive(state["pid"]) else None


def service_health(entry: dict) -> str:
    """Return ``healthy``, ``unhealthy`` or ``stopped`` for a recorded service."""
    if not _alive(entry["pid"]):
        return "stopped"
    if entry.get("health_url") and not _answers(entry["health_url"]):
        return "unhealthy"
    return "healthy"


def stop_recorded(state_dir: Path, timeout_seconds: float = 30.0) -> bool:
    """Ask the `vigil up` recorded in ``state_dir`` to stop; return True once it is gone."""
    state = read_state(state_dir)
    if state is None:
        return False
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline and _alive(state["pid"]):
        time.sleep(0.2)
    return not _alive(state["pid"])


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); its /proc state says it is gone.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ", 1)[-1].startswith("Z"))


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a service and everything it started (its process group)."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_SECONDS)
    _signal_group(process.pid, signal.SIGKILL)  # stragglers the leader left behind
    process.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
