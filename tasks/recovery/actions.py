"""Carry out rendered recovery actions and undo them.

``execute`` returns what happened plus two plain dicts for the transaction hooks: ``undo``
(how to put things back if a later step fails) and ``cleanup`` (what to drop once the run
commits, e.g. the files a clear step kept aside).
"""

import atexit
import importlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from models.errors import RecoveryError
from tasks.core.recovery.plan import Action
from tasks.recovery.probe import wait_until_passing

OUTPUT_LIMIT = 2000
SYSTEMD_RUNTIME_DIR = Path("/run/systemd/system")
# Started children, kept so they are reaped when stopped (no zombies).
_children: dict[int, subprocess.Popen[bytes]] = {}


@atexit.register
def _let_children_outlive_us() -> None:
    # Restarted services are meant to keep running after Vigil exits (own session);
    # mark them handled so Popen.__del__ does not warn about them.
    for child in _children.values():
        if child.poll() is None:
            child.returncode = 0


@dataclass(frozen=True)
class Outcome:
    """What one successful execution did."""

    output: str
    undo: dict[str, Any] | None = None
    cleanup: dict[str, Any] | None = None


def execute(action: Action) -> Outcome:
    """Run one action; raise RecoveryError when it fails."""
    return _EXECUTORS[action.kind](action.params, action.timeout_s)


def undo(info: dict[str, Any]) -> str:
    """Put back what a completed action changed; ``info`` came from its Outcome."""
    if info["kind"] == "restore_files":
        for original, kept in info["moves"]:
            Path(original).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(kept, original)
        shutil.rmtree(info["backup"], ignore_errors=True)
        return f"restored {len(info['moves'])} paths"
    if info["kind"] == "start_process":
        return _start(info["params"])
    if info["kind"] == "stop_process":
        return _stop(info["params"])
    raise RecoveryError(f"unknown undo kind {info['kind']!r}")


def cleanup(info: dict[str, Any]) -> None:
    """Drop what a committed action kept for undo."""
    if info["kind"] == "drop_backup":
        shutil.rmtree(info["backup"], ignore_errors=True)


def _run_command(params: dict[str, Any], timeout_s: float) -> Outcome:
    env = {**os.environ, **params.get("env", {})}
    try:
        done = subprocess.run(
            params["argv"], cwd=params.get("cwd"), env=env, capture_output=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        raise RecoveryError(f"{params['argv'][0]} did not finish within {timeout_s:g}s") from None
    except OSError as exc:
        raise RecoveryError(f"cannot run {params['argv'][0]}: {exc.strerror}") from None
    output = _tail(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RecoveryError(f"{params['argv'][0]} exited {done.returncode}: {output}")
    return Outcome(output)


def _tail(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")[-OUTPUT_LIMIT:].strip()


def _process(params: dict[str, Any], timeout_s: float) -> Outcome:
    action = params["action"]
    if action == "stop":
        seen = _stop(params)
        undo_info = {"kind": "start_process", "params": params} if params["start"] else None
        return Outcome(seen, undo=undo_info)
    if action == "start":
        return Outcome(_start(params), undo={"kind": "stop_process", "params": params})
    return Outcome(f"{_stop(params)}; {_start(params)}")


def _read_pid(pidfile: str) -> int | None:
    try:
        return int(Path(pidfile).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop(params: dict[str, Any]) -> str:
    """Stop gracefully (SIGTERM), escalate to SIGKILL after the grace period."""
    pid = _read_pid(params["pidfile"])
    if pid is None or not _is_alive(pid):
        return f"not running (pidfile {params['pidfile']})"
    os.kill(pid, signal.SIGTERM)
    if _wait_dead(pid, params["grace_s"]):
        return f"stopped pid {pid} with SIGTERM"
    os.kill(pid, signal.SIGKILL)
    if not _wait_dead(pid, 5.0):
        raise RecoveryError(f"pid {pid} survived SIGKILL")
    return f"killed pid {pid} after {params['grace_s']:g}s grace"


def _wait_dead(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while _is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    _children.pop(pid, None)
    return True


def _start(params: dict[str, Any]) -> str:
    """Start the process in its own session, record its pid, wait until it is up."""
    env = {**os.environ, **params.get("env", {})}
    try:
        child = subprocess.Popen(
            params["start"],
            cwd=params.get("cwd"),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise RecoveryError(f"cannot start {params['start'][0]}: {exc.strerror}") from None
    _children[child.pid] = child
    Path(params["pidfile"]).write_text(f"{child.pid}\n")
    if params["up"]:
        seen = wait_until_passing(params["up"], params["up_within_s"])
        return f"started pid {child.pid}; up: {seen}"
    time.sleep(0.2)
    if child.poll() is not None:
        raise RecoveryError(f"{params['start'][0]} exited {child.returncode} right after start")
    return f"started pid {child.pid}"


def _systemd(params: dict[str, Any], timeout_s: float) -> Outcome:
    if not SYSTEMD_RUNTIME_DIR.is_dir():
        return Outcome(f"skipped: systemd is not running here; {params['unit']} left alone")
    return _run_command({"argv": ["systemctl", "restart", params["unit"]]}, timeout_s)


def _http(params: dict[str, Any], timeout_s: float) -> Outcome:
    try:
        response = httpx.request(
            params["method"],
            params["url"],
            headers=params["headers"],
            json=params["json"],
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise RecoveryError(f"{params['method']} {params['url']} failed: {exc}") from None
    if response.status_code not in params["expect_status"]:
        raise RecoveryError(
            f"{params['method']} {params['url']} answered {response.status_code}, "
            f"expected {params['expect_status']}: {response.text[:200]}"
        )
    return Outcome(f"HTTP {response.status_code}: {response.text[:OUTPUT_LIMIT]}")


def _clear(params: dict[str, Any], _timeout_s: float) -> Outcome:
    """Move files (or a directory's contents) aside; undo moves them back, commit deletes them."""
    moves: list[tuple[str, str]] = []
    backup = ""
    for raw in params["paths"]:
        path = Path(raw)
        victims = list(path.iterdir()) if path.is_dir() else [path] if path.exists() else []
        for victim in victims:
            backup = backup or tempfile.mkdtemp(prefix=".vigil-clear-", dir=path.parent)
            kept = Path(backup) / str(len(moves))
            shutil.move(str(victim), kept)
            moves.append((str(victim), str(kept)))
    if not moves:
        return Outcome("nothing to clear")
    return Outcome(
        f"cleared {len(moves)} paths",
        undo={"kind": "restore_files", "moves": moves, "backup": backup},
        cleanup={"kind": "drop_backup", "backup": backup},
    )


def _scale(params: dict[str, Any], timeout_s: float) -> Outcome:
    if params.get("argv"):
        return _run_command(params, timeout_s)
    return _http(params, timeout_s)


def _python(params: dict[str, Any], _timeout_s: float) -> Outcome:
    module_name, _, function_name = params["entrypoint"].partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise RecoveryError(f"cannot load {params['entrypoint']}: {exc}") from None
    try:
        result = function(**params["kwargs"])
    except Exception as exc:
        raise RecoveryError(f"{params['entrypoint']} raised {type(exc).__name__}: {exc}") from exc
    return Outcome(repr(result)[:OUTPUT_LIMIT])


def _wait(params: dict[str, Any], _timeout_s: float) -> Outcome:
    time.sleep(params["duration_s"])
    return Outcome(f"waited {params['duration_s']:g}s")


def _probe(params: dict[str, Any], _timeout_s: float) -> Outcome:
    return Outcome(wait_until_passing(params["probe"], params["within_s"]))


_EXECUTORS = {
    "command": _run_command,
    "process": _process,
    "systemd": _systemd,
    "http": _http,
    "clear": _clear,
    "scale": _scale,
    "python": _python,
    "wait": _wait,
    "probe": _probe,
}
