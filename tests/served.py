"""`vigil api serve` as a process of its own, as `vigil up` runs it (tests and benchmarks)."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from models.config import load_config


@contextmanager
def api_process(db_url: str, config_path: Path) -> Iterator[str]:
    """Run `vigil api serve` as a process of its own; yield its base URL once it answers."""
    port = load_config(config_path).collectors.push.port
    argv = [
        sys.executable,
        "-m",
        "vigil.cli",
        "api",
        "serve",
        "--config",
        str(config_path),
        "--db",
        db_url,
    ]
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"vigil api serve did not start: {child.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=30)
