"""Start Vigil's processes, wait until each is healthy, restart those that crash, stop them all.

Every service runs in its own process group with its log under ``<state_dir>/logs``, and dies
with `vigil up` (a parent-death signal); ``<state_dir>/up.json`` records who runs, how often
each was restarted and how it last exited, so `vigil status` and `vigil down` can find them.
The supervisor's own lines go to its output and to ``logs/vigil-up.log``.
"""

import contextlib
import ctypes
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from deployments.restart_policy import RestartPolicy, after_crash
from models.errors import VigilError

STOP_GRACE_SECONDS = 10.0
TICK_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


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
    """A started service and its restart history."""

    service: Service
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float | None  # the process's start time, to tell it from a reused pid
    restarts: int = 0
    last_exit: int | None = None
    last_exit_at: str | None = None
    crashes: tuple[float, ...] = ()  # monotonic times of recent crashes
    restart_at: float | None = None  # monotonic; set while it waits out its backoff
    ready_by: float | None = None  # monotonic; set after a restart until it is healthy


BeforeStart = Callable[[Callable[[str], None]], None]


class Supervisor:
    """Own the child processes of one `vigil up`."""

    def __init__(
        self,
        state_dir: Path,
        *,
        policy: RestartPolicy | None = None,
        before_start: Mapping[str, BeforeStart] | None = None,
    ) -> None:
        """``before_start`` runs a hook (given the logger) before a service starts or restarts."""
        self.state_dir = state_dir
        self.policy = policy or RestartPolicy()
        self.before_start = dict(before_start or {})
        self.running: list[Running] = []
        self.echo: Callable[[str], object] = print

    @property
    def state_file(self) -> Path:
        return self.state_dir / "up.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "logs" / "vigil-up.log"

    def start(self, services: Sequence[Service], echo=print) -> None:  # type: ignore[no-untyped-def]
        """Start ``services`` in order, each only once the previous one is healthy."""
        self.echo = echo
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._stop_leftovers()
        for service in services:
            self.say(f"starting {service.name} …")
            self._prepare(service)
            process = self._spawn(service)
            self.running.append(
                Running(service, process, self._log_path(service), _started(process.pid))
            )
            self._write_state(is_ready=False)
            self._wait_ready(self.running[-1])
        self._write_state(is_ready=True)

    def watch(self) -> None:
        """Restart crashed services until Ctrl-C / SIGTERM; raise VigilError on giving up."""
        try:
            while True:
                self.tend()
                time.sleep(TICK_SECONDS)
        except KeyboardInterrupt:
            return

    def tend(self) -> None:
        """Look at every service once: note a crash, restart what is due, see it healthy."""
        for running in self.running:
            self._tend(running)

    def stop(self) -> None:
        """Stop every service, newest first: SIGTERM, then SIGKILL after a grace period."""
        for running in reversed(self.running):
            _stop_group(running.process)
        self.running.clear()
        self.state_file.unlink(missing_ok=True)

    def say(self, line: str) -> None:
        """Tell the operator, and keep the line in the supervisor's log."""
        self.echo(line)
        with contextlib.suppress(OSError), self.log_file.open("a") as log:
            log.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}\n")

    def _tend(self, running: Running) -> None:
        now = time.monotonic()
        if running.restart_at is not None:
            if now >= running.restart_at:
                self._restart(running)
        elif running.process.poll() is not None:
            self._crashed(running, now)
        elif running.ready_by is not None:
            self._check_restarted(running, now)

    def _crashed(self, running: Running, now: float) -> None:
        name, code = running.service.name, running.process.returncode
        _signal_group(running.process.pid, signal.SIGKILL)  # what it started dies with it
        running.last_exit = code
        running.last_exit_at = datetime.now(UTC).isoformat(timespec="seconds")
        running.ready_by = None
        verdict = after_crash(self.policy, running.crashes, now=now)
        running.crashes = verdict.recent_crashes
        if verdict.is_give_up:
            self.say(f"{name} exited with code {code}: it {verdict.why}; giving up")
            raise self._failed(
                running,
                f"{verdict.why} (last exit code {code}); Vigil gave up and stopped everything",
            )
        running.restart_at = now + verdict.delay_seconds
        self.say(
            f"{name} exited with code {code}; restarting it in {verdict.delay_seconds:g}s "
            f"({verdict.why}, see {running.log_path})"
        )
        self._write_state(is_ready=True)

    def _restart(self, running: Running) -> None:
        service = running.service
        self._prepare(service)
        running.process = self._spawn(service)
        running.started_at = _started(running.process.pid)
        running.restarts += 1
        running.restart_at = None
        running.ready_by = time.monotonic() + service.ready_timeout_seconds
        self.say(
            f"{service.name} restarted (pid {running.process.pid}, restart {running.restarts})"
        )
        self._write_state(is_ready=True)

    def _check_restarted(self, running: Running, now: float) -> None:
        service = running.service
        if service.health_url is None or answers(service.health_url):
            running.ready_by = None
            self.say(f"{service.name} is healthy again")
        elif now > running.ready_by:  # type: ignore[operator]  # checked by the caller
            self.say(
                f"{service.name} not healthy {service.ready_timeout_seconds:g}s after its "
                "restart; stopping it"
            )
            running.ready_by = None
            _stop_group(running.process)  # the next tick counts it as a crash

    def _prepare(self, service: Service) -> None:
        hook = self.before_start.get(service.name)
        if hook is None:
            return
        try:
            hook(self.say)
        except Exception as exc:  # the service is still better started than not
            self.say(f"before starting {service.name}: {type(exc).__name__}: {exc}")

    def _log_path(self, service: Service) -> Path:
        return self.state_dir / "logs" / f"{service.name}.log"

    def _spawn(self, service: Service) -> subprocess.Popen[bytes]:
        with self._log_path(service).open("ab") as log:  # the child keeps its own copy
            return subprocess.Popen(
                service.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **service.env},
                start_new_session=True,  # its own process group: stop takes its children too
                preexec_fn=die_with_parent,
            )

    def _wait_ready(self, running: Running) -> None:
        service = running.service
        deadline = time.monotonic() + service.ready_timeout_seconds
        while time.monotonic() < deadline:
            if running.process.poll() is not None:
                raise self._failed(running, f"exited with code {running.process.returncode}")
            if service.health_url is None or answers(service.health_url):
                return
            time.sleep(0.3)
        raise self._failed(running, f"not healthy after {service.ready_timeout_seconds:g}s")

    def _failed(self, running: Running, why: str) -> VigilError:
        tail = running.log_path.read_text(errors="replace").splitlines()[-15:]
        self.stop()
        return VigilError(
            f"{running.service.name} {why}; last lines of {running.log_path}:\n" + "\n".join(tail)
        )

    def _stop_leftovers(self) -> None:
        """Stop the process groups a killed `vigil up` left in this state directory."""
        if not self.state_file.exists() or read_state(self.state_dir) is not None:
            return
        for entry in json.loads(self.state_file.read_text()).get("services", []):
            pid, started = entry["pid"], entry.get("started_at")
            if _started(pid) not in (None, started):
                continue  # the pid now belongs to another program
            if _group_exists(pid):
                self.say(
                    f"stopping {entry['name']} (process group {pid}) left by a killed vigil up"
                )
                _stop_foreign_group(pid)

    def _write_state(self, *, is_ready: bool) -> None:
        state = {
            "pid": os.getpid(),
            "is_ready": is_ready,
            "services": [
                {
                    **asdict(r.service),
                    "pid": r.process.pid,
                    "started_at": r.started_at,
                    "log": str(r.log_path),
                    "restarts": r.restarts,
                    "last_exit": r.last_exit,
                    "last_exit_at": r.last_exit_at,
                    "is_restarting": r.restart_at is not None,
                }
                for r in self.running
            ],
        }
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2))
        temporary.replace(self.state_file)  # `vigil status` never reads half a file


def die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the parent dies, even by SIGKILL (Linux).

    Used as ``preexec_fn``; it only makes one system call.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None


def read_state(state_dir: Path) -> dict | None:
    """Return what `vigil up` recorded in ``state_dir``, or None when nothing runs there."""
    path = state_dir / "up.json"
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    return state if _alive(state["pid"]) else None


def service_health(entry: dict) -> str:
    """Return ``healthy``, ``unhealthy``, ``restarting`` or ``stopped`` for a recorded service."""
    if entry.get("is_restarting"):
        return "restarting"
    if not _alive(entry["pid"]):
        return "stopped"
    if entry.get("health_url") and not answers(entry["health_url"]):
        return "unhealthy"
    return "healthy"


def resident_mb(pid: int) -> float | None:
    """Resident memory (MB) of a process and every process under it (None: it is gone)."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for process in tree:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total / 1e6


def restart_note(entry: dict) -> str:
    """Say how often a recorded service was restarted and how it last exited ('' if never)."""
    if entry.get("last_exit") is None:
        return ""
    restarts = entry.get("restarts", 0)
    times = "once" if restarts == 1 else f"{restarts} times"
    return f"restarted {times}, last exit {entry['last_exit']} at {entry['last_exit_at']}"


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


def answers(url: str) -> bool:
    """Whether a health URL of our own services answers (any status below 500).

    With the standard library, not httpx: the supervisor idles for months (10 MB less).
    """
    # A probe of our own service: a self-signed certificate is expected there; no proxy.
    tls = ssl._create_unverified_context() if url.startswith("https:") else None
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=tls)
    )
    try:
        with opener.open(url, timeout=2) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ValueError, http.client.HTTPException):  # refused, timed out, garbled
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


def _started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _group_exists(pgid: int) -> bool:
    """True while a live (not zombie) process is in the process group."""
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                return True
    return False


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a service and everything it started (its process group)."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_SECONDS)
    _signal_group(process.pid, signal.SIGKILL)  # stragglers the leader left behind
    process.wait()


def _stop_foreign_group(pgid: int) -> None:
    """Stop a process group that is not our child (no wait() possible): poll until it is gone."""
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while time.monotonic() < deadline and _group_exists(pgid):
        time.sleep(0.2)
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
