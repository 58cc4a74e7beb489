"""`vigil demo`: a whole Vigil in its own directory, watching a small web service that breaks.

The demo directory holds everything it makes (vigil.yaml, the SQLite store, Prefect's
database, logs, pid files, ``demo.json``), so `vigil demo stop` stops its processes and
removes the directory: nothing is left behind. With ``--db`` the store is that database
instead (PostgreSQL, say); its tables stay there after the demo.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import yaml

from deployments.supervisor import read_state, stop_recorded
from models.config.starter import StarterPorts, starter_config
from models.errors import VigilError
from models.settings import get_settings
from models.vocabulary.passwords import hash_password

STATE_FILE = "demo.json"
SQLITE_STORE = "sqlite:///vigil.db"  # in the demo directory, where `vigil up` runs
WEB_TARGET = "demo-web"
DEMO_USER = "demo"


@dataclass(frozen=True)
class DemoPorts:
    """Where the demo's services listen (apart from a `vigil up` on the default ports)."""

    prefect: int = 4210
    push: int = 9101
    dashboard: int = 8511
    web: int = 8088

    @property
    def prefect_ui(self) -> str:
        return f"http://127.0.0.1:{self.prefect}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web}/"


def demo_config(
    directory: Path,
    ports: DemoPorts,
    password_hash: str,
    python: str = sys.executable,
    database_url: str = SQLITE_STORE,
) -> str:
    """The demo's vigil.yaml: the starter config plus the web service, its check, a rule
    that remediates first, and a restart that waits for approval in the Prefect UI."""
    starter = StarterPorts(prefect=ports.prefect, push=ports.push, dashboard=ports.dashboard)
    config = yaml.safe_load(starter_config(ports=starter, database_url=database_url))
    pidfile = str((directory / "demo-web.pid").resolve())
    config["targets"].append(
        {"name": WEB_TARGET, "kind": "service", "address": f"http://127.0.0.1:{ports.web}"}
    )
    config["checks"].append(
        {
            "name": "demo-web",
            "type": "http",
            "target": WEB_TARGET,
            "url": ports.web_url,
            "interval": "2s",
            "timeout": "2s",
            "max_attempts": 2,
        }
    )
    config["rules"].append(
        {
            "name": "DemoWebDown",
            "kind": "check_state",
            "check": '{check="demo-web"}',
            "severity": "critical",
            "procedure": "restart-demo-web",
            "remediate": {"verify_within": "15m"},
            "annotations": {"summary": "the demo web service answers 500"},
        }
    )
    config["procedures"].append(
        {
            "name": "restart-demo-web",
            "description": "Restart the demo web service; a person approves it first.",
            "approval": "required",
            "approval_timeout": "15m",
            "targets": [WEB_TARGET],
            "preconditions": [{"http": "{address}/", "expect": "failing"}],
            "steps": [
                {
                    "name": "restart",
                    "type": "process",
                    "pidfile": pidfile,
                    "start": [python, "-m", "deployments.demo_service", str(ports.web)],
                    "grace": "3s",
                    "up": {"http": "{address}/"},
                }
            ],
            "verify": {"http": "{address}/", "within": "20s"},
        }
    )
    config["alerting"]["default"] = {"group_wait": "0s", "group_interval": "5s"}
    # The operator who approves: approvals name a configured operator and carry their code.
    users = [{"name": DEMO_USER, "role": "admin", "password_hash": password_hash}]
    config.setdefault("dashboard", {})["users"] = users
    header = "# Written by `vigil demo`: the starter config plus a web service that breaks.\n"
    return header + yaml.safe_dump(config, sort_keys=False)


def start_demo(
    directory: Path,
    ports: DemoPorts,
    break_after_seconds: float,
    say: Callable[[str], None],
    database_url: str = SQLITE_STORE,
) -> None:
    """Write the demo directory, start the web service and `vigil up` there, wait until up.

    A Vigil already running here is left alone: the demo runs beside it with its own
    directory, store, ports and Prefect server, and never edits its vigil.yaml.
    """
    if (directory / STATE_FILE).exists():
        raise VigilError(f"a demo already runs in {directory}; `vigil demo stop` ends it")
    if busy := [f"{port} (--{name}-port)" for name, port in asdict(ports).items() if _taken(port)]:
        raise VigilError(f"already in use: {', '.join(busy)}; give the demo free ports")
    if read_state(get_settings().state_dir) is not None:
        say("a Vigil runs here already; the demo runs beside it and leaves its config alone")
    directory.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(9)
    config = demo_config(directory, ports, hash_password(password), database_url=database_url)
    (directory / "vigil.yaml").write_text(config)
    secret = directory / "demo-password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)
    say(f"dashboard login: {DEMO_USER} / {password} (also in {secret})")
    (directory / STATE_FILE).write_text(json.dumps(asdict(ports) | {"store": database_url}))
    service = [sys.executable, "-m", "deployments.demo_service", str(ports.web)]
    web = _spawn(service, directory, "demo-web.log")
    (directory / "demo-web.pid").write_text(f"{web.pid}\n")
    say(f"demo web service on {ports.web_url}")
    argv = [sys.executable, "-m", "vigil.cli", "up", "--db", database_url]
    up = _spawn(argv, directory, "vigil-up.out", ports)
    say(f"starting Vigil in {directory} (log: {directory / 'vigil-up.out'}) …")
    try:
        _wait_up(directory, up)
    except VigilError:
        up.terminate()  # `vigil up` stops its services on SIGTERM
        with contextlib.suppress(subprocess.TimeoutExpired):
            up.wait(timeout=60)
        _kill(web.pid)  # the directory stays, with the logs that say why
        (directory / STATE_FILE).unlink()
        raise
    break_demo(directory, after_seconds=break_after_seconds)


def break_demo(directory: Path, after_seconds: float = 0.0) -> str:
    """Break the demo web service now (or in ``after_seconds``); return its URL."""
    ports = demo_ports(directory)
    try:
        query = {"after": f"{after_seconds:g}"} if after_seconds > 0 else None
        httpx.post(ports.web_url, params=query, timeout=5)
    except httpx.HTTPError as exc:
        raise VigilError(f"the demo web service at {ports.web_url} did not answer: {exc}") from None
    return ports.web_url


def stop_demo(directory: Path) -> list[str]:
    """Stop `vigil up` and the web service of the demo in ``directory``, then remove it."""
    stopped = []
    if stop_recorded(directory / ".vigil", timeout_seconds=60):
        stopped.append("Vigil")
    pidfile = directory / "demo-web.pid"
    with contextlib.suppress(FileNotFoundError, ValueError):
        if _kill(int(pidfile.read_text().strip())):
            stopped.append("the demo web service")
    shutil.rmtree(directory, ignore_errors=True)
    return stopped


def demo_ports(directory: Path) -> DemoPorts:
    """The ports of the demo running in ``directory``."""
    state = _demo_state(directory)
    return DemoPorts(**{k: int(str(v)) for k, v in state.items() if k != "store"})


def demo_store(directory: Path) -> str:
    """The store URL of the demo running in ``directory``."""
    url = str(_demo_state(directory).get("store", SQLITE_STORE))
    return f"sqlite:///{directory / 'vigil.db'}" if url == SQLITE_STORE else url


def _demo_state(directory: Path) -> dict[str, object]:
    path = directory / STATE_FILE
    if not path.exists():
        raise VigilError(f"no demo runs in {directory}; `vigil demo` starts one")
    return dict(json.loads(path.read_text()))


def _spawn(
    argv: list[str], directory: Path, log: str, ports: DemoPorts | None = None
) -> subprocess.Popen[bytes]:
    """Start a process in its own session, so it outlives this command; its output to ``log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "PREFECT_API"))}
    if ports is not None:
        env |= {"VIGIL_PREFECT_PORT": str(ports.prefect), "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    with (directory / log).open("ab") as output:
        return subprocess.Popen(
            argv,
            cwd=directory,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _taken(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _wait_up(directory: Path, up: subprocess.Popen[bytes], timeout_seconds: float = 300) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if up.poll() is not None:
            tail = (directory / "vigil-up.out").read_text(errors="replace").splitlines()[-15:]
            raise VigilError("`vigil up` of the demo stopped:\n" + "\n".join(tail))
        state = read_state(directory / ".vigil")
        if state is not None and state["is_ready"]:
            return
        time.sleep(1)
    raise VigilError(f"the demo's Vigil was not up after {timeout_seconds:g}s; see vigil-up.out")


def _kill(pid: int) -> bool:
    """SIGKILL a process and its group (if it leads one); True if it was there."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True  # gone with its group
    except PermissionError:
        return False
    return True


@dataclass(frozen=True)
class Snapshot:
    """What the demo's store says now, for the story the terminal tells."""

    check: str | None = None  # the demo-web check's status: up, down, ...
    alert: str | None = None  # DemoWebDown's state: pending, firing, resolved
    fingerprint: str | None = None
    recovery: str | None = None  # the newest restart-demo-web run's state
    flow_run_id: str | None = None


STEPS = ("down", "firing", "approval", "restarted", "resolved")


def next_lines(snapshot: Snapshot, told: set[str], ports: DemoPorts) -> list[tuple[str, str]]:
    """The steps of the story ``snapshot`` shows that were not told yet, as (step, line).

    >>> ports = DemoPorts()
    >>> [step for step, _ in next_lines(Snapshot(check="down", alert="firing"), set(), ports)]
    ['down', 'firing']
    >>> next_lines(Snapshot(check="down"), {"down"}, ports)
    []
    """
    board = ports.dashboard_url
    lines = []
    if snapshot.check == "down":
        lines.append(("down", f"the demo-web check is DOWN: {board}/health"))
    if snapshot.alert in ("firing", "resolved"):
        lines.append(("firing", f"alert DemoWebDown fires: {board}/alerts"))
    if snapshot.recovery == "awaiting_approval" and snapshot.flow_run_id:
        lines.append(
            (
                "approval",
                "the restart waits for your approval in the Prefect UI: "
                f"{ports.prefect_ui}/runs/flow-run/{snapshot.flow_run_id}\n"
                "    log in with the user:password in .vigil/prefect-auth, press Resume, "
                "switch 'approved' on, Submit",
            )
        )
    if snapshot.recovery == "succeeded":
        lines.append(("restarted", f"the service was restarted and answers: {ports.web_url}"))
    if snapshot.alert == "resolved":
        link = f"{board}/alerts?fingerprint={snapshot.fingerprint}"
        lines.append(("resolved", f"the alert resolved; its whole timeline (tab Timeline): {link}"))
    return [(step, line) for step, line in lines if step not in told]


def snapshot(directory: Path) -> Snapshot:
    """Read the demo's store: the check, the alert and the recovery run."""
    from sqlalchemy import desc, select
    from sqlalchemy.exc import OperationalError, ProgrammingError
    from sqlmodel import col

    from models.alerting import Alert
    from models.checks import CheckStateRecord
    from models.db import make_engine
    from models.recovery import RecoveryRun

    engine = make_engine(demo_store(directory))
    try:
        with engine.connect() as conn:
            check = conn.scalar(
                select(col(CheckStateRecord.status)).where(
                    col(CheckStateRecord.check) == "demo-web"
                )
            )
            alert = conn.execute(
                select(col(Alert.state), col(Alert.fingerprint))
                .where(col(Alert.rule) == "DemoWebDown")
                .order_by(desc(col(Alert.id)))
            ).first()
            run = conn.execute(
                select(col(RecoveryRun.state), col(RecoveryRun.flow_run_id))
                .where(col(RecoveryRun.procedure) == "restart-demo-web")
                .order_by(desc(col(RecoveryRun.id)))
            ).first()
    except (OperationalError, ProgrammingError):  # no schema yet
        return Snapshot()
    finally:
        engine.dispose()
    return Snapshot(
        check=check,
        alert=alert[0] if alert else None,
        fingerprint=alert[1] if alert else None,
        recovery=str(run[0]) if run else None,
        flow_run_id=str(run[1]) if run and run[1] else None,
    )


def follow_demo(directory: Path, say: Callable[[str], None], timeout_seconds: float) -> bool:
    """Tell each step of the story as the store shows it; True once the alert resolved."""
    ports, told = demo_ports(directory), set[str]()
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline and "resolved" not in told:
        for step, line in next_lines(snapshot(directory), told, ports):
            told.add(step)
            say(line)
        time.sleep(1)
    return "resolved" in told
