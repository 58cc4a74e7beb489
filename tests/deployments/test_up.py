"""`vigil up` from a clean directory: everything starts, answers, and stops without leftovers."""

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
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


class Site:
    """A directory with a vigil.yaml on free ports, where `vigil up` is started and killed."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.prefect_port, push_port, self.dashboard_port = free_port(), free_port(), free_port()
        self.env = {
            **os.environ,
            "VIGIL_PREFECT_PORT": str(self.prefect_port),
            "PYTHONPATH": str(Path.cwd()),
        }
        assert self.vigil("init").returncode == 0
        loaded = yaml.safe_load((tmp_path / "vigil.yaml").read_text())
        loaded["collectors"]["push"]["port"] = push_port
        loaded["dashboard"] = {"port": self.dashboard_port}
        (tmp_path / "vigil.yaml").write_text(yaml.safe_dump(loaded))
        self.api = f"http://127.0.0.1:{self.prefect_port}/api"

    def configure(self, **sections: object) -> None:
        loaded = yaml.safe_load((self.dir / "vigil.yaml").read_text())
        (self.dir / "vigil.yaml").write_text(yaml.safe_dump({**loaded, **sections}))

    def vigil(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_vigil(*args, cwd=self.dir, env=self.env)

    def up(self, *options: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*VIGIL, "up", *options],
            cwd=self.dir,
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def services(self) -> dict[str, dict]:
        path = self.dir / ".vigil" / "up.json"
        try:
            return {s["name"]: s for s in json.loads(path.read_text())["services"]}
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def post(self, path: str, body: dict) -> httpx.Response:
        """POST to the Prefect API with the credential `vigil up` made (none before it exists)."""
        is_made = (self.dir / ".vigil" / "prefect-auth").exists()
        auth = prefect_auth(self.dir) if is_made else None
        return httpx.post(f"{self.api}{path}", json=body, auth=auth, timeout=10)

    def state_of(self, flow: str, run_id: str) -> dict:
        [run] = [r for r in self.runs(flow) if r["id"] == run_id]
        return run["state"]

    def runs(self, flow: str, *states: str) -> list[dict]:
        """Runs of a flow, newest first, optionally only in these state types."""
        body: dict = {"flows": {"name": {"any_": [flow]}}, "sort": "ID_DESC", "limit": 50}
        if states:
            body["flow_runs"] = {"state": {"type": {"any_": list(states)}}}
        try:
            found = self.post("/flow_runs/filter", body)
        except httpx.HTTPError:  # not up yet
            return []
        return found.json() if found.status_code == 200 else []


@pytest.mark.slow
def test_up_serves_in_one_process_restarts_it_when_killed_then_down_stops_everything(tmp_path):
    """The default, compact layout: the Prefect server, runner and API share one process."""
    site = Site(tmp_path)
    config = yaml.safe_load((tmp_path / "vigil.yaml").read_text())
    push_port = config["collectors"]["push"]["port"]
    token = config["collectors"]["push"]["tokens"][0]["token"]
    up = site.up()
    try:
        wait_for(lambda: site.vigil("status").returncode == 0, "health", up)
        status = site.vigil("status").stdout
        for service in ("vigil", "dashboard"):
            assert f"{service:<16} healthy" in status
        assert len(site.services()) == 2
        core = psutil.Process(site.services()["vigil"]["pid"])
        assert core.environ()["MALLOC_ARENA_MAX"] == "2"  # freed memory kept in 2 arenas
        used = {m[0]: int(m[1]) for m in re.findall(r"(\w+) +healthy +(\d+) MB  ", status)}
        assert used.keys() == {"vigil", "dashboard"} and used["vigil"] > 100, status
        [total] = re.findall(r"Vigil runs \(pid \d+, (\d+) MB resident in all\)", status)
        assert int(total) > sum(used.values()), status  # the supervisor's own memory too
        assert httpx.get(f"{site.api}/health", timeout=5).json() is True
        assert httpx.get(f"http://127.0.0.1:{site.prefect_port}/", timeout=5).status_code == 200
        wait_for(
            lambda: {"collect", "maintenance"} <= deployment_names(site.api, tmp_path),
            "deployments",
            up,
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
        page = httpx.get(f"http://127.0.0.1:{site.dashboard_port}/", timeout=5)
        assert page.status_code == 200 and "streamlit" in page.text.lower()
        # kill -9 the one process: it comes back whole, and the runs in it are ended Crashed.
        wait_for(lambda: site.runs("run_checks", "RUNNING"), "a running run_checks", up)
        left = site.runs("run_checks", "RUNNING")[0]["id"]
        os.kill(site.services()["vigil"]["pid"], signal.SIGKILL)
        wait_for(
            lambda: (
                site.services()["vigil"]["restarts"] == 1 and site.vigil("status").returncode == 0
            ),
            "vigil restarted and healthy",
            up,
        )
        assert site.state_of("run_checks", left)["type"] == "CRASHED"
        assert re.search(
            r"vigil +healthy .*\(restarted once, last exit -9 at ", site.vigil("status").stdout
        )
        children = psutil.Process(up.pid).children(recursive=True)
        assert len(children) >= 2
        down = site.vigil("down")
        assert down.stdout.strip() == "Vigil stopped."
        assert up.wait(timeout=60) == 0
    finally:
        if up.poll() is None:
            up.kill()
    output = up.stdout.read() if up.stdout else ""
    assert f"vigil            http://127.0.0.1:{site.prefect_port} (Prefect UI)" in output
    assert f"push: http://127.0.0.1:{push_port}/api/v1/push" in output
    served = (tmp_path / ".vigil" / "logs" / "vigil.log").read_text()
    assert "Crashed: left Running by a `vigil serve` that is gone" in served
    assert not [child for child in children if alive(child.pid)]
    assert site.vigil("status").returncode == 3


def kill_tree(root: int) -> list[int]:
    """SIGKILL a process and everything below it at once, as a power cut would."""
    tree = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    return [process.pid for process in tree]


def kill_each_service_once(site: Site, up: subprocess.Popen[str]) -> None:
    """kill -9 every service of `vigil up` in turn; each is back and healthy before the next.

    The runner may exit by itself while the Prefect server is away: it is restarted too.
    """
    for name in ("deployments", "prefect-server", "push", "dashboard"):
        restarts = site.services()[name]["restarts"]
        os.kill(site.services()[name]["pid"], signal.SIGKILL)
        wait_for(
            lambda name=name, restarts=restarts: (
                site.services()[name]["restarts"] > restarts
                and site.vigil("status").returncode == 0
            ),
            f"{name} restarted and healthy",
            up,
        )
    status = site.vigil("status").stdout
    for name in ("prefect-server", "push", "dashboard"):
        assert re.search(rf"{name} +healthy .*\(restarted once, last exit -9 at ", status), status
    assert re.search(r"deployments +healthy .*\(restarted (once|\d times), last exit", status)


def crash_push_at_every_start(site: Site, up: subprocess.Popen[str]) -> int:
    """kill -9 the push server each time it is (re)started until `vigil up` gives up."""
    killed: set[int] = set()
    deadline = time.monotonic() + 120
    while up.poll() is None and time.monotonic() < deadline:
        push = site.services().get("push", {})
        if push.get("pid") not in killed and not push.get("is_restarting", True):
            with contextlib.suppress(ProcessLookupError):
                os.kill(push["pid"], signal.SIGKILL)
            killed.add(push["pid"])
        time.sleep(0.1)
    return len(killed)


@pytest.mark.slow
def test_vigil_up_isolated_restarts_what_is_killed_resumes_checks_and_gives_up_on_flapping(
    tmp_path,
):
    check_interval_seconds = 2
    site = Site(tmp_path)
    check = {"name": "api-port", "type": "tcp", "target": "vm", "host": "127.0.0.1"}
    check |= {"port": site.prefect_port, "interval": f"{check_interval_seconds}s"}
    rule = {"name": "ApiDown", "kind": "check_state", "check": '{check="api-port"}'}
    site.configure(checks=[check], rules=[rule])
    store = sqlite3.connect(tmp_path / "vigil.db")

    def newest_result() -> float:
        newest = store.execute("SELECT max(at) FROM check_result").fetchone()[0]
        return datetime.fromisoformat(newest).timestamp() if newest else 0.0

    def first_windows() -> list[str]:
        """`vigil serve` starts each window at once: the runs of the first ones."""
        for flow in ("run_checks", "alert-sweep"):
            wait_for(lambda flow=flow: site.runs(flow, "RUNNING"), f"a running {flow}", up)
        return [site.runs(flow, "RUNNING")[0]["id"] for flow in ("run_checks", "alert-sweep")]

    up = site.up("--isolated")
    try:
        # 1. Each service killed alone comes back; the runner's runs died with it and were
        # marked Crashed before it served again.
        left = first_windows()
        wait_for(lambda: newest_result() > 0, "a check result", up)
        kill_each_service_once(site, up)
        for flow, run_id in zip(("run_checks", "alert-sweep"), left, strict=True):
            assert site.state_of(flow, run_id)["type"] == "CRASHED"
        # 2. A full kill -9 (supervisor, services and the runs in them), then `vigil up` again.
        for flow in ("run_checks", "alert-sweep"):
            wait_for(lambda flow=flow: site.runs(flow, "RUNNING"), f"a replacing {flow}", up)
        left = [site.runs(flow, "RUNNING")[0]["id"] for flow in ("run_checks", "alert-sweep")]
    finally:
        killed = kill_tree(up.pid)
        up.wait()
    assert len(killed) >= 5  # vigil up, its four services (the window runs are serve's threads)
    killed_at = time.time()
    up = site.up("--isolated")
    try:
        wait_for(lambda: newest_result() > killed_at, "a check result after the restart", up)
        resumed_after = time.time() - killed_at
        for flow, run_id in zip(("run_checks", "alert-sweep"), left, strict=True):
            assert site.state_of(flow, run_id)["type"] == "CRASHED"
            wait_for(lambda flow=flow: site.runs(flow, "RUNNING"), f"a new {flow} run", up)
        found = site.post("/deployments/filter", {"limit": 50})
        limits = {d["name"]: d["global_concurrency_limit"] for d in found.json()}
        assert limits["every-window"]["active_slots"] == 1  # the new run's, not the dead one's
        # 3. A service that crashes at every start makes `vigil up` give up, loudly.
        crashes = crash_push_at_every_start(site, up)
        assert up.wait(timeout=60) == 1
    finally:
        if up.poll() is None:
            kill_tree(up.pid)
        store.close()
    output = up.stdout.read() if up.stdout else ""
    assert "Crashed: left Running by a `vigil serve` that is gone" in output
    assert "push exited with code -9; restarting it in 1s" in output
    assert "push crashed 5 times within 60s (last exit code -9); Vigil gave up" in output
    assert crashes == 5
    log = (tmp_path / ".vigil" / "logs" / "vigil-up.log").read_text()
    assert "prefect-server restarted (pid" in log and "dashboard is healthy again" in log
    assert site.vigil("status").returncode == 3
    print(
        f"checks resumed {resumed_after:.1f}s after the kill (interval {check_interval_seconds}s)"
    )
    assert resumed_after < 120
