"""`vigil up` from a clean directory: everything starts, answers, and stops without leftovers."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

VIGIL = [sys.executable, "-m", "vigil.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_vigil(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIL, *args], cwd=cwd, env=env, capture_output=True, text=True)


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and not stat.read_text().split(") ", 1)[-1].startswith("Z")


@pytest.mark.slow
def test_up_serves_then_down_stops_everything(tmp_path):
    port = free_port()
    env = {**os.environ, "VIGIL_PREFECT_PORT": str(port), "PYTHONPATH": str(Path.cwd())}
    up = subprocess.Popen(
        [*VIGIL, "up"],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240
        while run_vigil("status", cwd=tmp_path, env=env).returncode != 0:
            assert up.poll() is None, up.stdout.read() if up.stdout else ""
            assert time.monotonic() < deadline, "vigil up did not become healthy in 240 s"
            time.sleep(1)
        status = run_vigil("status", cwd=tmp_path, env=env).stdout
        assert "prefect-server   healthy" in status
        assert httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json() is True
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200  # the UI
        children = psutil.Process(up.pid).children(recursive=True)
        assert children, "vigil up runs its services as child processes"
        down = run_vigil("down", cwd=tmp_path, env=env)
        assert down.stdout.strip() == "Vigil stopped."
        assert up.wait(timeout=30) == 0
    finally:
        if up.poll() is None:
            up.kill()
    output = up.stdout.read() if up.stdout else ""
    assert "wrote starter config vigil.yaml" in output
    assert f"prefect-server   http://127.0.0.1:{port}" in output
    assert not [child for child in children if alive(child.pid)]
    assert run_vigil("status", cwd=tmp_path, env=env).returncode == 3
