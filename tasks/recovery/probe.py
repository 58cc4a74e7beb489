"""Small self-contained health probes for recovery: HTTP status, TCP connect, command exit 0."""

import socket
import subprocess
import time
from typing import Any

import httpx

from models.errors import RecoveryError


def probe_once(probe: dict[str, Any]) -> tuple[bool, str]:
    """Run a rendered probe once; return ``(is_passing, what was seen)``."""
    timeout = probe["timeout_s"]
    try:
        if probe["http"]:
            status = httpx.get(probe["http"], timeout=timeout).status_code
            return status in probe["expect_status"], f"HTTP {status} from {probe['http']}"
        if probe["tcp"]:
            host, _, port = probe["tcp"].rpartition(":")
            with socket.create_connection((host, int(port)), timeout=timeout):
                return True, f"connected to {probe['tcp']}"
        done = subprocess.run(probe["command"], capture_output=True, timeout=timeout, check=False)
        return done.returncode == 0, f"{probe['command'][0]} exited {done.returncode}"
    except (httpx.HTTPError, OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def wait_until_passing(probe: dict[str, Any], within_s: float, interval_s: float = 0.2) -> str:
    """Probe until it passes; raise RecoveryError with the last answer after ``within_s``."""
    deadline = time.monotonic() + within_s
    while True:
        is_passing, seen = probe_once(probe)
        if is_passing:
            return seen
        if time.monotonic() >= deadline:
            raise RecoveryError(f"probe did not pass within {within_s:g}s; last: {seen}")
        time.sleep(interval_s)
