"""Who may drive Vigil through the Prefect API `vigil up` starts: only holders of its credential,
and even they cannot choose the config or the store a run reads.

One real `vigil up` for the module (Prefect server, `vigil serve`, dashboard) on a
PostgreSQL store whose URL carries a password (the server trusts loopback, so any password
connects), probed as an attacker on loopback would.
"""

import json
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, select
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from models.access import ApprovalPath
from models.db import make_engine
from models.recovery import AuditEvent, RecoveryAudit
from models.store import MetricStore
from models.vocabulary.passwords import hash_password
from tasks.recovery.approval_codes import issue_code
from tests.conftest import PG_URL, _admin_dsn
from tests.deployments.test_up import run_vigil
from tests.ports import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-store-pw"
FOREIGN = "http://evil.example"

CONFIG = """
targets: [{{name: web}}]
collectors:
  host: {{interval: 1s}}
  processes: {{enabled: false}}
  push: {{enabled: false}}
dashboard:
  port: {dashboard_port}
  users: [{{name: dana, role: operator, password_hash: "{dana_hash}"}}]
procedures:
  - name: gated
    approval: required
    approval_timeout: 5m
    steps:
      - {{type: command, argv: [touch, "{gated_marker}"]}}
"""

EVIL = """
procedures:
  - name: pwn
    steps:
      - {{type: command, argv: [touch, "{marker}"]}}
"""


@dataclass
class Vigil:
    """A running `vigil up` and how to reach it."""

    cwd: Path
    env: dict[str, str]
    api: str
    store_url: str

    @property
    def credential(self) -> str:
        return (self.cwd / ".vigil" / "prefect-auth").read_text().strip()

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
        """One API call, retrying a busy SQLite server's 503 as Prefect's client does."""
        credential = tuple(self.credential.split(":", 1)) if auth else None
        for attempt in range(5):
            reply = httpx.request(
                method, f"{self.api}{path}", auth=credential, timeout=10, **kwargs
            )
            if reply.status_code not in (502, 503):
                break
            time.sleep(2**attempt)
        return reply

    def deployment_id(self, name: str) -> str:
        return self.call("GET", f"/deployments/name/{name}").raise_for_status().json()["id"]

    def run(self, run_id: str) -> dict:
        return self.call("GET", f"/flow_runs/{run_id}").raise_for_status().json()


def wait_until(condition: Callable[[], object], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {seconds:g} s"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def vigil(tmp_path_factory: pytest.TempPathFactory, postgres_available: None) -> Iterator[Vigil]:
    cwd = tmp_path_factory.mktemp("vigil-up")
    name = f"vigil_access_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    store_url = (
        make_url(PG_URL).set(database=name, password=PASSWORD).render_as_string(hide_password=False)
    )
    prefect_port, dashboard_port = free_port(), free_port()
    config = CONFIG.format(
        dashboard_port=dashboard_port,
        gated_marker=cwd / "gated-marker",
        dana_hash=hash_password("dana's password"),
    )
    (cwd / "vigil.yaml").write_text(config)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "VIGIL_PREFECT_PORT": str(prefect_port),
        "VIGIL_DATABASE_URL": store_url,
        "PREFECT_HOME": str(cwd / "prefect-home"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # served runs start within a second
    }
    for inherited in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING"):
        env.pop(inherited, None)  # what a command learns, it learns from the state dir
    up = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli", "up"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    vigil = Vigil(cwd, env, f"http://127.0.0.1:{prefect_port}/api", store_url)
    try:
        wait_until(lambda: run_vigil("status", cwd=cwd, env=env).returncode == 0, "vigil up", 300)
        wait_until(lambda: vigil.call("GET", "/deployments/name/recover/recover").is_success, "")
        yield vigil
    finally:
        run_vigil("down", cwd=cwd, env=env)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.terminate()
            up.wait(timeout=60)
        with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_api_answers_401_without_the_credential_and_200_with_it(vigil):
    for method, path, body in [
        ("POST", "/deployments/filter", {}),
        ("POST", "/flow_runs/filter", {"limit": 5}),
        ("GET", "/admin/settings", None),
    ]:
        assert vigil.call(method, path, auth=False, json=body).status_code == 401, path
        assert vigil.call(method, path, json=body).status_code == 200, path
    wrong = httpx.post(f"{vigil.api}/deployments/filter", json={}, auth=("vigil", "guess"))
    assert wrong.status_code == 401
    assert httpx.get(f"{vigil.api}/health", timeout=5).status_code == 200  # for probes


@pytest.mark.parametrize("path", ["/events/in", "/events/out"])
def test_the_events_websockets_refuse_a_client_without_the_credential(vigil, path):
    """PrefectHQ/prefect#17687 (3.2): basic auth left these open. On 3.8.8 they are closed."""
    url = vigil.api.replace("http://", "ws://") + path
    with pytest.raises(InvalidStatus):  # no "prefect" subprotocol: refused at the handshake
        connect(url, open_timeout=10).close()
    for token in (None, "vigil:guess"):
        with connect(url, subprotocols=[Subprotocol("prefect")], open_timeout=10) as socket:
            socket.send(json.dumps({"type": "auth", "token": token}))
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008, token
    with connect(url, subprotocols=[Subprotocol("prefect")], open_timeout=10) as socket:
        socket.send(json.dumps({"type": "auth", "token": vigil.credential}))
        assert json.loads(socket.recv(timeout=10)) == {"type": "auth_success"}


def test_status_says_where_the_credential_is(vigil):
    status = run_vigil("status", cwd=vigil.cwd, env=vigil.env)
    path = (vigil.cwd / ".vigil" / "prefect-auth").resolve()
    assert f"Prefect API credential: {path} (mode 0600;" in status.stdout
    assert vigil.credential not in status.stdout


def test_the_credential_is_private_and_neither_it_nor_the_store_password_is_in_up_json(vigil):
    path = vigil.cwd / ".vigil" / "prefect-auth"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    recorded = (vigil.cwd / ".vigil" / "up.json").read_text()
    assert vigil.credential.split(":", 1)[1] not in recorded
    assert PASSWORD not in recorded


def test_a_forged_run_with_a_foreign_config_is_refused_and_nothing_runs(vigil):
    marker = vigil.cwd / "pwned"
    evil = vigil.cwd / "evil.yaml"  # the attacker's own procedure, approval: none
    evil.write_text(EVIL.format(marker=marker))
    recover = vigil.deployment_id("recover/recover")
    create = f"/deployments/{recover}/create_flow_run"
    forged = {"procedure": "pwn", "target": "x", "config_path": str(evil)}

    assert vigil.call("POST", create, auth=False, json={"parameters": forged}).status_code == 401
    refused = vigil.call("POST", create, json={"parameters": forged})
    assert refused.status_code == 409 and "'config_path' was unexpected" in refused.text
    # Turning the schema check off for this run gets it created, but it cannot start.
    unchecked = {"parameters": forged, "enforce_parameter_schema": False}
    crashed = vigil.call("POST", create, json=unchecked).raise_for_status().json()["id"]
    # A procedure the served config does not have is refused by the flow and audited.
    unknown = {"parameters": {"procedure": "pwn", "target": "x"}}
    skipped = vigil.call("POST", create, json=unknown).raise_for_status().json()["id"]

    final = ("COMPLETED", "FAILED", "CRASHED")
    wait_until(lambda: vigil.run(crashed)["state_type"] in final, "end of the unchecked run")
    wait_until(lambda: vigil.run(skipped)["state_type"] in final, "end of the unknown run")
    assert vigil.run(crashed)["state_type"] in ("FAILED", "CRASHED")
    assert vigil.run(skipped)["state_type"] == "COMPLETED"
    assert not marker.exists()
    with Session(make_engine(vigil.store_url)) as session:
        rows = session.exec(select(RecoveryAudit).where(RecoveryAudit.procedure == "pwn")).all()
    assert [(r.event, r.detail) for r in rows] == [
        (AuditEvent.SKIPPED, "no procedure 'pwn' in the config; known: gated")
    ]


def test_an_unauthenticated_resume_cannot_approve_and_the_cli_can(vigil):
    recover = vigil.deployment_id("recover/recover")
    body = {"parameters": {"procedure": "gated", "target": "web"}}
    created = vigil.call("POST", f"/deployments/{recover}/create_flow_run", json=body)
    run_id = created.raise_for_status().json()["id"]
    wait_until(lambda: vigil.run(run_id)["state_type"] == "PAUSED", "paused recovery")

    answer = {"run_input": {"approved": True, "reason": "", "approver": "ann"}}
    forged = vigil.call("POST", f"/flow_runs/{run_id}/resume", auth=False, json=answer)
    assert forged.status_code == 401
    time.sleep(2)  # the flow polls every second: it would have resumed by now
    assert vigil.run(run_id)["state_type"] == "PAUSED"
    assert not (vigil.cwd / "gated-marker").exists()

    # `vigil recovery approve` finds the server and its credential in the state directory;
    # the code is what the dashboard shows dana for this run.
    engine = make_engine(vigil.store_url)
    code = issue_code(engine, "dana", run_id, ApprovalPath.CLI, now=datetime.now(UTC))
    engine.dispose()
    approve = ["recovery", "approve", run_id, "--reason", "checked", "--approver", "dana"]
    approve += ["--code", code]
    approved = run_vigil(*approve, cwd=vigil.cwd, env=vigil.env)
    assert approved.returncode == 0, approved.stderr
    wait_until(lambda: vigil.run(run_id)["state_type"] == "COMPLETED", "approved recovery")
    assert (vigil.cwd / "gated-marker").exists()
    with Session(make_engine(vigil.store_url)) as session:
        rows = session.exec(
            select(RecoveryAudit).where(RecoveryAudit.event == AuditEvent.APPROVED)
        ).all()
    assert [(r.actor, r.detail, r.path) for r in rows] == [("dana", "run: checked", "cli")]


def test_vigils_own_flows_still_run_on_the_served_store(vigil):
    collect = vigil.deployment_id("collect/collect")
    body = {"parameters": {"window_seconds": 1}}
    run_id = vigil.call("POST", f"/deployments/{collect}/create_flow_run", json=body).json()["id"]
    wait_until(lambda: vigil.run(run_id)["state_type"] == "COMPLETED", "collect run", 180)
    store = make_engine(vigil.store_url)
    assert MetricStore(store).find_series("host_memory_total_bytes")  # in the served store
    store.dispose()


def test_no_deployment_nor_run_nor_pool_shows_the_store_password(vigil):
    readable = [
        vigil.call("POST", "/deployments/filter", json={}),
        vigil.call("POST", "/flow_runs/filter", json={"limit": 200}),
        vigil.call("POST", "/work_pools/filter", json={}),
    ]
    for reply in readable:
        assert reply.status_code == 200
        assert PASSWORD not in reply.text
    for deployment in readable[0].json():
        assert not {"config_path", "database_url", "db_url"} & set(deployment["parameters"])


def test_cors_preflights_are_answered_for_the_ui_only(vigil):
    ui = vigil.api.removesuffix("/api")
    headers = {"Access-Control-Request-Method": "POST"}
    foreign = httpx.options(
        f"{vigil.api}/flow_runs/filter", headers={**headers, "Origin": FOREIGN}, timeout=5
    )
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers
    own = httpx.options(
        f"{vigil.api}/flow_runs/filter", headers={**headers, "Origin": ui}, timeout=5
    )
    assert own.status_code == 200 and own.headers["access-control-allow-origin"] == ui


def test_the_dashboard_reads_prefect_with_the_credential_it_inherits(vigil):
    import prefect.settings as ps
    from prefect.settings import temporary_settings

    from tasks.queries.runs import PrefectUnavailable, flow_names

    with temporary_settings(updates={ps.PREFECT_API_AUTH_STRING: vigil.credential}):
        assert "recover" in flow_names(vigil.api)
    with pytest.raises(PrefectUnavailable, match="401"):
        flow_names(vigil.api)
