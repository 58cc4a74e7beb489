"""The supervisor of `vigil up` with small real services: restart, give up, die together."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import suppress
from pathlib import Path

import httpx
import psutil
import pytest

from deployments.restart_policy import RestartPolicy
from deployments.supervisor import Service, Supervisor, read_state, restart_note
from models.errors import VigilError
from tests.ports import free_port

FAST = RestartPolicy(first_delay_seconds=0.05, max_delay_seconds=0.5, max_crashes=4)


def web(name: str, port: int) -> Service:
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    return Service(name, argv, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/")


def tend_until(supervisor: Supervisor, condition, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        supervisor.tend()
        time.sleep(0.05)


def gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ", 1)[-1].startswith("Z")


def live_members(pgid: int) -> list[int]:
    """Processes of a process group that are not zombies (killed, not yet reaped)."""
    members = []
    for process in psutil.process_iter(["status"]):
        with suppress(psutil.Error, OSError):
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                members.append(process.pid)
    return members


def test_a_killed_service_is_restarted_and_its_restart_recorded(tmp_path):
    port = free_port()
    hook_calls: list[str] = []
    supervisor = Supervisor(
        tmp_path, policy=FAST, before_start={"web": lambda say: hook_calls.append("web")}
    )
    lines: list[str] = []
    supervisor.start([web("web", port)], echo=lines.append)
    try:
        first = supervisor.running[0].process.pid
        os.kill(first, signal.SIGKILL)
        tend_until(supervisor, lambda: any("is healthy again" in line for line in lines))
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
        entry = json.loads((tmp_path / "up.json").read_text())["services"][0]
        assert entry["pid"] != first and entry["restarts"] == 1 and entry["last_exit"] == -9
        assert restart_note(entry).startswith("restarted once, last exit -9 at ")
        assert hook_calls == ["web", "web"]  # before the start and before the restart
        log = (tmp_path / "logs" / "vigil-up.log").read_text()
        assert "web exited with code -9; restarting it in 0.05s" in log
        assert "web restarted (pid" in log
    finally:
        supervisor.stop()
    assert gone(entry["pid"])


def test_a_service_that_keeps_crashing_makes_the_supervisor_give_up_and_stop_all(tmp_path):
    port = free_port()
    crashing = Service("crasher", [sys.executable, "-c", "print('boom'); exit(3)"], "-")
    supervisor = Supervisor(tmp_path, policy=FAST)
    lines: list[str] = []
    # The crasher's first start counts as started: it has no health URL to wait for.
    supervisor.start([web("web", port), crashing], echo=lines.append)
    web_pid = supervisor.running[0].process.pid
    with pytest.raises(VigilError) as raised:
        tend_until(supervisor, lambda: False)
    message = str(raised.value)
    assert message.startswith("crasher crashed 4 times within 60s (last exit code 3);")
    assert "Vigil gave up and stopped everything" in message and "boom" in message
    assert sum("crasher restarted" in line for line in lines) == 3
    assert gone(web_pid) and not (tmp_path / "up.json").exists()


def test_services_die_with_a_killed_supervisor_and_the_next_start_clears_leftovers(tmp_path):
    port = free_port()
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from deployments.supervisor import Service, Supervisor
        # Only the leader gets the parent-death signal: its own child stays behind.
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
        starter = f"import subprocess, time; subprocess.Popen({{sleeper!r}}); time.sleep(600)"
        services = [
            Service("web", [sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1"],
                    "-", "http://127.0.0.1:{port}/"),
            Service("starter", [sys.executable, "-c", starter], "-"),
        ]
        Supervisor(Path({str(tmp_path)!r})).start(services, echo=lambda line: None)
        print("up", flush=True)
        time.sleep(600)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    up = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )
    assert up.stdout is not None and up.stdout.readline() == "up\n"
    time.sleep(1)  # the starter starts its child
    services = json.loads((tmp_path / "up.json").read_text())["services"]
    web_pid, starter_pid = services[0]["pid"], services[1]["pid"]
    up.kill()
    up.wait()
    deadline = time.monotonic() + 10
    while not (gone(web_pid) and gone(starter_pid)):
        assert time.monotonic() < deadline, "a service outlived its supervisor"
        time.sleep(0.1)
    assert live_members(starter_pid)  # the starter's child is still there …
    assert read_state(tmp_path) is None  # … though nothing runs there for `vigil status`
    lines: list[str] = []
    Supervisor(tmp_path).start([], echo=lines.append)  # a new `vigil up` in the same place
    assert lines == [f"stopping starter (process group {starter_pid}) left by a killed vigil up"]
    assert not live_members(starter_pid)
