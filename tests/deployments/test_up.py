"""`vigil up` from a clean directory: everything starts, answers, and stops without leftovers."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from tests.ports import free_port

VIGIL = [sys.executable, "-m", "vigil.cli"]


def run_vigil(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIL, *args], cwd=cwd, env=env, capture_output=True, text=True)


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and not stat.read_text().split(") ", 1)[-1].startswith("Z")


def wait_for(condition, what: str, up: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert up.poll() is None, f"vigil up exited while waiting for {what}"
        assert time.monotonic() < deadline, f"no {what} after {seconds:g} s"
        time.sleep(1)


def prefect_auth(cwd: Path) -> tuple[str, str]:
    """The basic-auth pair of the Prefect server `vigil up` started in ``cwd``."""
    user, password = (cwd / ".vigil" / "prefect-auth").read_text().strip().split(":", 1)
    return user, password


def deployment_names(api: str, cwd: Path) -> set[str]:
    found = httpx.post(
        f"{api}/deployments/filter", json={"limit": 50}, auth=prefect_auth(cwd), timeout=5
    )
    return {d["name"] for d in found.json()} if found.status_code == 200 else set()


@pytest.mark.slow
def test_up_serves_then_down_stops_everything(tmp_path):
    prefect_port, push_port, dashboard_port = free_port(), free_port(), free_port()
    env = {**os.environ, "VIGIL_PREFECT_PORT": str(prefect_port), "PYTHONPATH": str(Path.cwd())}
    assert run_vigil("init", cwd=tmp_path, env=env).returncode == 0
    config = yaml.safe_load((tmp_path / "vigil.yaml").read_text())
    config["collectors"]["push"]["port"] = push_port
    config["dashboard"] = {"port": dashboard_port}
    (tmp_path / "vigil.yaml").write_text(yaml.safe_dump(config))
    token = config["collectors"]["push"]["tokens"][0]["token"]
    api = f"http://127.0.0.1:{prefect_port}/api"

    up = subprocess.Popen(
        [*VIGIL, "up"],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: run_vigil("status", cwd=tmp_path, env=env).returncode == 0, "health", up)
        status = run_vigil("status", cwd=tmp_path, env=env).stdout
        for service in ("prefect-server", "deployments", "push", "dashboard"):
            assert f"{service:<16} healthy" in status
        assert httpx.get(f"{api}/health", timeout=5).json() is True
        assert httpx.get(f"http://127.0.0.1:{prefect_port}/", timeout=5).status_code == 200
        wait_for(
            lambda: {"collect", "maintenance"} <= deployment_names(api, tmp_path), "deployments", up
        )
        pushed = httpx.post(
            f"http://127.0.0.1:{push_port}/api/v1/push",
            content=f"e2e_probe 1 {int(time.time() * 1000)}\n",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
            timeout=10,
        )
        assert pushed.status_code == 200, pushed.text
        metrics = httpx.get(f"http://127.0.0.1:{push_port}/metrics", timeout=5)
        assert metrics.status_code == 200 and "vigil_" in metrics.text
        page = httpx.get(f"http://127.0.0.1:{dashboard_port}/", timeout=5)
        assert page.status_code == 200 and "streamlit" in page.text.lower()
        children = psutil.Process(up.pid).children(recursive=True)
        assert len(children) >= 4
        down = run_vigil("down", cwd=tmp_path, env=env)
        assert down.stdout.strip() == "Vigil stopped."
        assert up.wait(timeout=60) == 0
    finally:
        if up.poll() is None:
            up.kill()
    output = up.stdout.read() if up.stdout else ""
    assert f"prefect-server   http://127.0.0.1:{prefect_port}" in output
    assert f"push             http://127.0.0.1:{push_port}/api/v1/push" in output
    assert not [child for child in children if alive(child.pid)]
    assert run_vigil("status", cwd=tmp_path, env=env).returncode == 3
