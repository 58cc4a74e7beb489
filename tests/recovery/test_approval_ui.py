"""Approve a paused recovery run in the real Prefect UI, in headless Chromium.

The session harness serves no UI, so this test starts its own `prefect server start`
(API + UI) on a free port, runs the flow in a child process against it, and fills the
Resume form the way an operator would.
"""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from models.access import ApprovalPath
from models.migrate import upgrade
from models.recovery import AuditEvent, RecoveryAudit
from tasks.recovery.approval_codes import issue_code
from tasks.recovery.steps import engine_for
from tests.ports import free_port
from tests.recovery.test_approval import operators_yaml

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-output"
REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture
def ui_server(tmp_path: Path) -> Iterator[str]:
    """A full Prefect server with its UI; yields the API URL."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path}/prefect.db",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_UI_API_URL": api,  # what the browser calls; the default is :4200
        "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",  # not needed; saves start-up time
    }
    env.pop("PREFECT_API_URL", None)
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent))
    assert prefect is not None
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-services"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 180)
        yield api
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(condition, within_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"condition not met within {within_s}s")


def _paused_run(api: str) -> str:
    found: list[str] = []

    def is_paused() -> bool:
        body = {
            "limit": 5,
            "sort": "START_TIME_DESC",
            "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}},
        }
        runs = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=5).json()
        found.extend(r["id"] for r in runs)
        return bool(runs)

    _wait_for(is_paused, 90)
    return found[0]


def test_an_operator_approves_in_the_prefect_ui_and_the_run_completes(ui_server, tmp_path):
    marker = tmp_path / "marker"
    config = tmp_path / "vigil.yaml"
    config.write_text(f"""{operators_yaml("dana", "eric")}
procedures:
  - name: gated
    approval: required
    steps:
      - {{type: command, argv: [touch, "{marker}"]}}
""")
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(db)
    code = "from flows.recover import recover; print(recover('gated', 'ui-1'))"
    env = {**os.environ, "PREFECT_API_URL": ui_server, "PREFECT_HOME": str(tmp_path / "ph")}
    flow = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env | {"VIGIL_CONFIG_PATH": str(config), "VIGIL_DATABASE_URL": db},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = _approve_in_browser(ui_server, flow, marker, db)
    finally:
        if flow.returncode is None:  # communicate() never finished: do not leave it behind
            flow.kill()
            flow.communicate()
    assert flow.returncode == 0, output
    assert "succeeded: all steps done" in output
    assert marker.exists()
    with Session(engine_for(db)) as session:
        rows = session.exec(select(RecoveryAudit).where(RecoveryAudit.actor != "vigil")).all()
    assert [(r.event, r.actor, r.path) for r in rows] == [
        (AuditEvent.APPROVED, "dana", "prefect-ui"),
    ]
    assert rows[0].detail == "run: disk is full, restart is safe"


def _approve_in_browser(api: str, flow: subprocess.Popen[str], marker: Path, db: str) -> str:
    """Open the paused run, answer its form as dana with her code; return the flow's output.

    Wrong codes, borrowed codes and demoted operators are refused in test_approval.py."""
    from playwright.sync_api import sync_playwright

    run_id = _paused_run(api)
    assert not marker.exists()
    SHOTS.mkdir(exist_ok=True)
    ui = api.removesuffix("/api")
    now = datetime.now(UTC)
    danas = issue_code(engine_for(db), "dana", run_id, ApprovalPath.PREFECT_UI, now=now)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _fill_form(page, f"{ui}/runs/flow-run/{run_id}", code=danas, shot="filled")
        output, _ = flow.communicate(timeout=60)
        page.reload()
        page.get_by_text("Completed", exact=True).first.wait_for(timeout=30_000)
        page.screenshot(path=str(SHOTS / "recovery-approval-completed.png"))
        browser.close()

    assert _state(api, run_id) == "COMPLETED"
    return output


def _fill_form(page, url: str, *, code: str, shot: str) -> None:  # type: ignore[no-untyped-def]
    """Choose dana, type ``code`` and a reason, approve, submit."""
    page.goto(url)
    page.get_by_role("button", name="Resume").first.click(timeout=60_000)
    form = page.locator(".p-modal")
    form.get_by_text("Recovery").first.wait_for()
    page.screenshot(path=str(SHOTS / "recovery-approval-form.png"))
    _choose(page, form, "dana")  # the approver: a choice among operators, not free text
    form.locator("textarea").nth(0).fill(code)
    form.get_by_role("switch").click()
    form.locator("textarea").nth(1).fill("disk is full, restart is safe")
    page.screenshot(path=str(SHOTS / f"recovery-approval-{shot}.png"))
    form.get_by_role("button", name="Submit").click()
    page.get_by_text("Flow run resumed").first.wait_for()


def _choose(page, form, name: str) -> None:  # type: ignore[no-untyped-def]
    """Pick ``name`` in the form's approver select (native or Prefect's own)."""
    native = form.locator("select")
    if native.count():
        native.first.select_option(label=name)
        return
    control = form.locator("button.p-select-button__control").first
    control.click()
    page.keyboard.press("ArrowDown")
    option = page.locator(".p-select-option, [role=option]").filter(has_text=name)
    option.first.click()


def _state(api: str, run_id: str) -> str:
    return httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()["state"]["type"]
