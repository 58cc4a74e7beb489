"""A `vigil collect run` killed with -9: its Prefect server goes with it, its run is ended later."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

VIGIL = [sys.executable, "-m", "vigil.cli"]


def private_server_port(parent: psutil.Process) -> int | None:
    """The port of the Prefect server a command started for itself (uvicorn … --port N)."""
    for child in parent.children():
        argv = child.cmdline()
        if "uvicorn" in argv and "--port" in argv:
            return int(argv[argv.index("--port") + 1])
    return None


def servers_of(prefect_home: Path) -> list[psutil.Process]:
    """Live Prefect servers on this machine whose database is in ``prefect_home``."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            is_server = "prefect.server.api.server:create_app" in (process.info["cmdline"] or [])
            is_live = process.info["status"] != psutil.STATUS_ZOMBIE
            if is_server and is_live and process.environ().get("PREFECT_HOME") == str(prefect_home):
                found.append(process)
        except psutil.Error:
            continue
    return found


def running_collect_runs(api: str) -> list[dict]:
    body = {"flows": {"name": {"any_": ["collect"]}}, "limit": 10, "sort": "ID_DESC"}
    body["flow_runs"] = {"state": {"type": {"any_": ["RUNNING"]}}}
    try:
        found = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=5)
    except httpx.HTTPError:
        return []
    return found.json() if found.status_code == 200 else []


def wait_for(condition, what: str, seconds: float = 120):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"no {what} after {seconds:g}s"
        time.sleep(0.5)
    return found


@pytest.mark.slow
def test_a_killed_collect_run_takes_its_prefect_server_along_and_is_crashed_by_the_next(
    tmp_path,
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PYTHONPATH": str(Path.cwd())}
    for prepare in (["init"], ["db", "upgrade"]):
        subprocess.run([*VIGIL, *prepare], cwd=tmp_path, env=env, check=True, capture_output=True)
    collect = subprocess.Popen(
        [*VIGIL, "collect", "run", "--window", "300"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port = wait_for(lambda: private_server_port(psutil.Process(collect.pid)), "server")
        assert len(servers_of(tmp_path / "prefect")) == 1
        [run] = wait_for(lambda: running_collect_runs(f"http://127.0.0.1:{port}/api"), "run")
        assert "vigil-process" in run["tags"]
    finally:
        collect.kill()
        collect.wait()
    wait_for(lambda: not servers_of(tmp_path / "prefect"), "end of the orphaned server", 15)

    again = subprocess.run(
        [*VIGIL, "collect", "run", "--window", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert again.returncode == 0, again.stderr
    host = socket.gethostname()
    reason = f"its process (pid {collect.pid} on {host}) is gone"
    assert f"marked run {run['name']} Crashed: {reason}" in again.stderr
    with sqlite3.connect(tmp_path / "prefect" / "prefect.db") as prefect_db:
        states = dict(prefect_db.execute("SELECT name, state_type FROM flow_run").fetchall())
    assert states[run["name"]] == "CRASHED"
    assert sorted(states.values()) == ["COMPLETED", "CRASHED"]  # the second run ended well
    assert not servers_of(tmp_path / "prefect")  # the second command stopped its own too
