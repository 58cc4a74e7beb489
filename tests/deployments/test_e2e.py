"""End to end, as an operator lives it: `vigil up`, a service breaks, mail, approval, healed.

Everything is real: `vigil up` (Prefect server with its UI and scheduler, `vigil serve`,
dashboard), a small web service in its own process, an SMTP server on loopback, headless
Chromium approving the recovery in the Prefect UI. Once on SQLite (the store and Prefect's
database) and once on PostgreSQL (both). Screenshots go to tests/artifacts/e2e-<backend>/.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from models.access import ApprovalPath
from models.alerting import Alert, AlertTransition, Notification
from models.checks import CheckResult
from models.db import make_engine
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun, RunState
from models.vocabulary.passwords import hash_password
from tasks.recovery.approval_codes import issue_code
from tests.alerting.helpers import Mailbox, smtp_server
from tests.conftest import PG_URL, _admin_dsn
from tests.deployments.test_up import prefect_auth, run_vigil
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SERVICE = Path(__file__).with_name("service.py")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]

CONFIG = """
targets:
  - {{name: web, kind: service, address: "http://127.0.0.1:{port}"}}
collectors:
  host: {{enabled: false}}
  processes: {{enabled: false}}
  push: {{enabled: false}}
dashboard:
  port: {dashboard_port}
  users: [{{name: dana, role: operator, password_hash: "{dana_hash}"}}]
checks:
  - {{name: web-health, type: http, target: web, url: "http://127.0.0.1:{port}/",
      interval: 1s, timeout: 2s, max_attempts: 1}}
rules:
  - {{name: WebDown, kind: check_state, check: '{{check="web-health"}}', state: down,
      severity: critical, procedure: restart-web}}
channels:
  - name: ops-mail
    url: "mailto://127.0.0.1:{smtp_port}?from=vigil@example.com&to=ops@example.com&mode=insecure"
alerting:
  default: {{group_wait: 0s, group_interval: 1s, repeat_interval: 4h}}
procedures:
  - name: restart-web
    approval: required
    approval_timeout: 5m
    targets: [web]
    preconditions:
      - {{http: "{{address}}/", expect: failing}}
    steps:
      - name: restart
        type: process
        pidfile: "{pidfile}"
        start: ["{python}", "{service}", "{port}"]
        grace: 3s
        up: {{http: "{{address}}/"}}
    verify: {{http: "{{address}}/", within: 20s}}
"""


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The watched service, started as an operator would; whatever runs at the end is stopped."""
    port, pidfile = free_port(), tmp_path / "web.pid"
    child = subprocess.Popen(
        [sys.executable, str(SERVICE), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    pidfile.write_text(f"{child.pid}\n")
    wait_until(lambda: answers(f"http://127.0.0.1:{port}/") == 200, "the service", 20)
    yield port, pidfile
    for pid in {child.pid, int(pidfile.read_text())}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    child.wait(timeout=10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """(name, store URL, extra env): SQLite files, or fresh PostgreSQL databases for both."""
    if request.param == "sqlite":
        yield "sqlite", f"sqlite:///{tmp_path / 'vigil.db'}", {}
        return
    request.getfixturevalue("postgres_available")
    names = [f"vigil_e2e_{uuid.uuid4().hex[:10]}", f"prefect_e2e_{uuid.uuid4().hex[:10]}"]
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    store = make_url(PG_URL).set(database=names[0]).render_as_string(hide_password=False)
    prefect = (
        make_url(PG_URL)
        .set(drivername="postgresql+asyncpg", database=names[1])
        .render_as_string(hide_password=False)
    )
    yield "postgres", store, {"VIGIL_PREFECT_DATABASE_URL": prefect}
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def answers(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return None


def wait_until(condition: Callable[[], object], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"no {what} after {seconds:g} s"
        time.sleep(0.5)


class Prefect:
    """The few Prefect REST calls the test makes (what the UI and `prefect` CLI call too),
    with the credential `vigil up` keeps in its state directory."""

    def __init__(self, api: str, cwd: Path) -> None:
        self.api, self.cwd = api, cwd

    @property
    def credential(self) -> str:
        return ":".join(prefect_auth(self.cwd))

    def get(self, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
        return httpx.get(f"{self.api}{path}", auth=prefect_auth(self.cwd), timeout=5, **kwargs)

    def post(self, path: str, body: dict) -> httpx.Response:
        """POST, retrying what Prefect's own client retries: a busy server's 502/503
        (on SQLite, a database lock while `vigil serve` registers deployments)."""
        for attempt in range(5):
            reply = httpx.post(
                f"{self.api}{path}", json=body, auth=prefect_auth(self.cwd), timeout=10
            )
            if reply.status_code not in (502, 503):
                break
            time.sleep(2**attempt)
        return reply

    def deployment_id(self, name: str) -> str | None:
        found = self.get(f"/deployments/name/{name}")
        return found.json()["id"] if found.status_code == 200 else None

    def run_deployment(self, name: str, parameters: dict) -> str:
        deployment = self.deployment_id(name)
        created = self.post(
            f"/deployments/{deployment}/create_flow_run", {"parameters": parameters}
        )
        created.raise_for_status()
        return created.json()["id"]

    def runs(self, flow: str, state: str | None = None) -> list[dict]:
        body: dict = {"limit": 20, "sort": "START_TIME_DESC", "flows": {"name": {"any_": [flow]}}}
        if state:
            body["flow_runs"] = {"state": {"type": {"any_": [state]}}}
        return self.post("/flow_runs/filter", body).json()

    def run(self, run_id: str) -> dict:
        return self.get(f"/flow_runs/{run_id}").json()

    def states(self, run_id: str) -> list[str]:
        found = self.get("/flow_run_states/", params={"flow_run_id": run_id})
        return [s["name"] for s in sorted(found.json(), key=lambda s: s["timestamp"])]


def approve_in_the_ui(ui: str, credential: str, run_id: str, shots: Path, code: str) -> None:
    """Log in to the Prefect UI, open the paused run, fill the Resume form as dana with the
    one-time ``code`` the dashboard showed her, submit it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{ui}/runs")  # the API asks for basic auth: the UI asks for it once
        page.get_by_placeholder("admin:pass").fill(credential)
        page.get_by_role("button", name="Login").click()
        page.get_by_placeholder("admin:pass").wait_for(state="detached")
        page.goto(f"{ui}/runs/flow-run/{run_id}")
        page.get_by_text("Paused").first.wait_for(timeout=90_000)
        page.screenshot(path=str(shots / "1-recovery-paused.png"))
        page.get_by_role("button", name="Resume").first.click(timeout=90_000)
        form = page.locator(".p-modal")
        form.get_by_text("restart-web").first.wait_for()
        page.screenshot(path=str(shots / "2-approval-form.png"))
        form.locator("button.p-select-button__control").first.click()  # approver: a choice
        page.keyboard.press("ArrowDown")
        page.locator(".p-select-option, [role=option]").filter(has_text="dana").first.click()
        form.locator("textarea").nth(0).fill(code)
        form.get_by_role("switch").click()
        form.locator("textarea").nth(1).fill("web answers 500; a restart is safe")
        page.screenshot(path=str(shots / "3-approval-filled.png"))
        form.get_by_role("button", name="Submit").click()
        page.get_by_text("Flow run resumed").first.wait_for()
        page.get_by_text("Completed", exact=True).first.wait_for(timeout=120_000)
        page.screenshot(path=str(shots / "4-recovery-completed.png"))
        browser.close()


def test_a_broken_service_is_alerted_approved_in_the_ui_restarted_and_resolved(
    backend, web, mailbox, tmp_path
):
    name, store_url, extra_env = backend
    (port, pidfile), (box, smtp_port) = web, mailbox
    shots = ARTIFACTS / f"e2e-{name}"
    shots.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {shots}")
    prefect_port, dashboard_port = free_port(), free_port()
    config = CONFIG.format(
        port=port,
        dashboard_port=dashboard_port,
        smtp_port=smtp_port,
        pidfile=pidfile,
        python=sys.executable,
        service=SERVICE,
        dana_hash=hash_password("dana's password"),
    )
    (tmp_path / "vigil.yaml").write_text(config)
    env = {
        **os.environ,
        **extra_env,
        "PYTHONPATH": str(REPO),
        "VIGIL_PREFECT_PORT": str(prefect_port),
        "VIGIL_DATABASE_URL": store_url,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # served runs start within a second (default 10)
    }
    env.pop("PREFECT_API_URL", None)
    prefect = Prefect(f"http://127.0.0.1:{prefect_port}/api", tmp_path)
    started = time.monotonic()
    up = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli", "up"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: run_vigil("status", cwd=tmp_path, env=env).returncode == 0, "up", 300)
        for deployment in ("run_checks/every-window", "recover/recover"):
            wait_until(lambda d=deployment: prefect.deployment_id(d), deployment, 120)
        # `vigil serve` starts the checks' first window at once (no run to create here).
        wait_until(lambda: prefect.runs("run_checks", "RUNNING"), "the first checks window", 120)
        checks = prefect.runs("run_checks", "RUNNING")[0]["id"]
        store = make_engine(store_url)
        wait_until(lambda: statuses(store) == ["up"], "first passing check", 120)
        print(f"up and checking after {time.monotonic() - started:.0f} s")

        httpx.post(f"http://127.0.0.1:{port}/", timeout=5)  # the service breaks
        broke = time.monotonic()
        wait_until(lambda: any("FIRING" in s for s in box.subjects()), "alert mail", 60)
        wait_until(lambda: prefect.runs("recover", "PAUSED"), "paused recovery", 120)
        (paused,) = prefect.runs("recover", "PAUSED")
        print(f"alert mailed and recovery paused {time.monotonic() - broke:.0f} s after breaking")
        ui = prefect.api.removesuffix("/api")
        now = datetime.now(UTC)
        code = issue_code(store, "dana", paused["id"], ApprovalPath.PREFECT_UI, now=now)
        approve_in_the_ui(ui, prefect.credential, paused["id"], shots, code)
        wait_until(lambda: prefect.run(paused["id"])["state_type"] == "COMPLETED", "done", 120)
        wait_until(lambda: any("RESOLVED" in s for s in box.subjects()), "resolve mail", 60)
        print(f"healed and resolved {time.monotonic() - broke:.0f} s after breaking")
        assert answers(f"http://127.0.0.1:{port}/") == 200
        assert_prefect_ran_it(prefect, paused["id"], checks)
        assert run_vigil("down", cwd=tmp_path, env=env).stdout.strip() == "Vigil stopped."
        assert up.wait(timeout=60) == 0
    finally:
        if up.poll() is None:  # SIGTERM: `vigil up` stops its services; SIGKILL would orphan them
            up.terminate()
            try:
                up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                up.kill()
        output = up.stdout.read() if up.stdout else ""
    print(f"scenario took {time.monotonic() - started:.0f} s on {name}")
    try:
        assert "Vigil is up" in output
        assert_the_store_tells_the_story(store, box, paused["id"], pidfile)
    finally:
        store.dispose()


def assert_prefect_ran_it(prefect: Prefect, recovery_id: str, checks_id: str) -> None:
    """The recovery ran from its deployment, paused, resumed and completed; checks were served."""
    the_run = prefect.run(recovery_id)
    assert the_run["deployment_id"] == prefect.deployment_id("recover/recover")
    assert the_run["parameters"]["trigger"] == "alert:WebDown"
    states = prefect.states(recovery_id)
    assert states.index("Paused") < states.index("Completed")
    assert "Running" in states[states.index("Paused") :]  # resumed, then ran the steps
    checks = prefect.run(checks_id)
    assert checks["deployment_id"] == prefect.deployment_id("run_checks/every-window")
    assert checks["state_type"] in ("RUNNING", "COMPLETED")  # its window lasts until the schedule's


def statuses(store) -> list[str]:  # type: ignore[no-untyped-def]
    """Check statuses of web-health in order, consecutive repeats collapsed."""
    with Session(store) as session:
        rows = session.exec(select(CheckResult.status).order_by(CheckResult.id)).all()  # type: ignore[arg-type]
    return [s for i, s in enumerate(rows) if i == 0 or rows[i - 1] != s]


def assert_the_store_tells_the_story(store, box: Mailbox, flow_run_id: str, pidfile) -> None:  # type: ignore[no-untyped-def]
    assert statuses(store)[:3] == ["up", "down", "up"]
    with Session(store) as session:
        (alert,) = session.exec(select(Alert)).all()
        moves = session.exec(select(AlertTransition).order_by(AlertTransition.id)).all()  # type: ignore[arg-type]
        mails = session.exec(select(Notification).order_by(Notification.id)).all()  # type: ignore[arg-type]
        (run,) = session.exec(select(RecoveryRun)).all()
        audit = session.exec(select(RecoveryAudit).order_by(RecoveryAudit.id)).all()  # type: ignore[arg-type]
    assert (alert.rule, alert.state) == ("WebDown", "resolved")
    assert [(m.from_state, m.to_state) for m in moves][-2:] == [
        (moves[-2].from_state, "firing"),
        ("firing", "resolved"),
    ]
    assert [(m.channel, m.kind, m.status) for m in mails] == [
        ("ops-mail", "firing", "sent"),
        ("ops-mail", "resolved", "sent"),
    ]
    subjects = box.subjects()
    assert len(subjects) == 2 and "WebDown" in subjects[0] and "RESOLVED" in subjects[1]
    assert (run.procedure, run.target, run.trigger) == ("restart-web", "web", "alert:WebDown")
    assert (run.state, run.flow_run_id) == (RunState.SUCCEEDED, flow_run_id)
    events = [a.event for a in audit]
    for earlier, later in [
        (AuditEvent.TRIGGERED, AuditEvent.APPROVAL_REQUESTED),
        (AuditEvent.APPROVAL_REQUESTED, AuditEvent.APPROVED),
        (AuditEvent.APPROVED, AuditEvent.STEP_SUCCEEDED),
        (AuditEvent.STEP_SUCCEEDED, AuditEvent.VERIFIED),
        (AuditEvent.VERIFIED, AuditEvent.SUCCEEDED),
    ]:
        assert events.index(earlier) < events.index(later)
    approved = next(a for a in audit if a.event == AuditEvent.APPROVED)
    assert (approved.actor, approved.detail) == ("dana", "run: web answers 500; a restart is safe")
    restarted = next(a for a in audit if a.event == AuditEvent.STEP_SUCCEEDED)
    assert f"started pid {int(pidfile.read_text())}" in restarted.detail
