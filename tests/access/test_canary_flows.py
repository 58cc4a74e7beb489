"""Secrets stay secret through Prefect: a canary in every secret slot, real flows, then a scan
of Vigil's store, Prefect's database, its artifacts, every file, the process output, what the
notifications carried and the dashboard pages.

Slots: the push token, the SMTP password (in the channel URL, used to log in to a real SMTP
server on loopback), a webhook URL's ``?-token=``, a Slack URL's token (Slack's cloud is the
one fake: its requests are redirected to a loopback receiver), the dashboard password, the Prefect
credential (``PREFECT_API_AUTH_STRING``) and an API token made by `vigil api token create`
(random, so it is a second canary). Flows: collect, the alert sweep that delivers the alert a
push fired (to the SMTP server and the webhook), a recovery dry run and a real run approved
through the API with the token. The CLI acts with the token (``VIGIL_API_TOKEN``, --token-file).
"""

import logging
import sqlite3
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from models.config import load_config
from models.db import make_engine
from models.migrate import upgrade
from models.recovery import RecoveryRun
from models.settings import get_settings
from models.store import MetricStore
from models.vocabulary.passwords import hash_password
from tests.access.test_canary import CANARY, _dashboard_round
from tests.api.conftest import Server
from tests.notify.receivers import Receiver, redirect_to
from tests.ports import free_port
from vigil.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()
DASHBOARD_PASSWORD = f"dash-{CANARY}"
CREDENTIAL = f"vigil:prefect-{CANARY}"
SLACK_SECRET = "sl4ckC4n4ry7f3e9dW3bh00k"  # Slack's token C: letters and digits only


def test_the_canary_survives_no_flow_run_artifact_notification_or_page(
    prefect_harness, tmp_path, monkeypatch, caplog
):
    import prefect.settings as ps
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.settings import temporary_settings

    ensure_logging_setup()  # else the first flow run configures logging, dropping caplog's
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="mail.log")  # the test's SMTP server, not Vigil
    mail, hook, started = _Mailbox(), _Hook(), time.time()
    slack = Receiver().start()  # Slack's cloud is out of reach offline: its requests come here
    redirect_to(monkeypatch, slack, {"hooks.slack.com"})
    try:
        with _smtp(mail) as smtp_port, hook.serving():
            site = _site(tmp_path, monkeypatch, smtp_port, hook.port)
            with temporary_settings(updates={ps.PREFECT_API_AUTH_STRING: CREDENTIAL}):
                assert _sent_credential() == f"Basic {b64encode(CREDENTIAL.encode()).decode()}"
                seen = _scenario(site, mail, hook, monkeypatch)
    finally:
        logging.getLogger().removeHandler(caplog.handler)
        slack.stop()
    seen["Slack requests (headers and bodies)"] = "\n".join(
        f"{r.headers}\n{r.body.decode()}" for r in slack.answered
    )
    token = site["token"]
    seen |= _scan_stores(site["db"], datetime.fromtimestamp(started, UTC))
    seen |= _scan_files(tmp_path, allowed=site["holders"])
    seen |= _scan_results(since=started)
    seen["log records (every logger of this process)"] = caplog.text
    everything = "\n".join(seen.values())  # the scan did read what happened:
    assert "canary_probe" in everything and "restart-web on web-1" in everything
    assert "collection window done" in seen["log records (every logger of this process)"]
    assert "ops-user/canary-bot" in everything
    assert mail.logins == [("vigil", f"smtp-{CANARY}")] * 2  # the password did travel, to log in
    assert hook.queries == [f"token=hook-{CANARY}"] * 2  # and the hook's token, in its URL
    assert [r.path.rsplit("/", 1)[-1] for r in slack.answered] == [SLACK_SECRET] * 2
    basic = b64encode(CREDENTIAL.encode()).decode()  # as basic auth sends it
    needles = [CANARY, token, basic, SLACK_SECRET]
    hits = {place: n for place, shown in seen.items() if (n := sum(map(shown.count, needles)))}
    assert hits == {}, "canary found in: " + "; ".join(
        f"{place} ({n}x): …{_around(seen[place], needles)}…" for place, n in hits.items()
    )


def _site(tmp_path: Path, monkeypatch, smtp_port: int, hook_port: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Write the vigil.yaml, the state directory and the store; make the API token."""
    port = free_port()
    hashed = hash_password(DASHBOARD_PASSWORD)
    config = tmp_path / "vigil.yaml"
    config.write_text(f"""collectors:
  host: {{interval: 100ms, target: box}}
  push:
    enabled: true
    port: {port}
    tokens: [{{name: sender, token: "push-{CANARY}"}}]
rules:
  - {{name: CanaryHot, series: canary_probe, value: 0}}
  - {{name: CanaryQuiet, kind: absence, for: 1s, series: canary_beat}}
alerting:
  default: {{group_wait: 0s, group_by: [alertname]}}
channels:
  - {{name: mail, url: "mailto://vigil:smtp-{CANARY}@127.0.0.1:{smtp_port}?from=vigil@example.com&to=ops@example.com&mode=insecure"}}
  - {{name: hook, url: "json://127.0.0.1:{hook_port}/alerts?-token=hook-{CANARY}"}}
  - {{name: slack, url: "slack://T1CANARY9/B2CANARY8/{SLACK_SECRET}/#ops"}}
  - {{name: dead, url: "json://bot:dead-{CANARY}@127.0.0.1:{free_port()}/x?-token=dead-{CANARY}"}}
procedures:
  - name: restart-web
    approval: required
    approval_timeout: 1m
    limits: {{max_runs: 2, window: 1h, cooldown: 0s}}
    steps:
      - type: command
        argv: ["true"]
dashboard:
  refresh: 0s
  users:
    - {{name: admin-user, role: admin, password_hash: '{hashed}'}}
    - {{name: ops-user, role: operator, password_hash: '{hashed}'}}
""")
    state = tmp_path / ".vigil"
    state.mkdir()
    credential = state / "prefect-auth"
    credential.write_text(CREDENTIAL + "\n")
    credential.chmod(0o600)
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no token file of the machine's
    monkeypatch.delenv("VIGIL_API_TOKEN", raising=False)
    monkeypatch.setenv("VIGIL_CONFIG_PATH", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", db)
    monkeypatch.setenv("VIGIL_STATE_DIR", str(state))
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", CREDENTIAL)  # as `vigil up` hands it down
    get_settings.cache_clear()
    made = runner.invoke(
        app, ["api", "token", "create", "canary-bot", "--user", "ops-user", "--role", "operator"]
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    # what legitimately holds a secret: the config, the credential, the token file
    holders = {config, credential, token_file}
    return {"config": config, "db": db, "token": token, "token_file": token_file,
            "holders": holders}  # fmt: skip


def _scenario(site: dict[str, Any], mail: "_Mailbox", hook: "_Hook", monkeypatch) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Run the flows, the API, the CLI and the dashboard; return what they showed, by place."""
    from flows.alert_sweep import alert_sweep
    from flows.collect import collect
    from tasks.alerting.subscribe import alerting_on_batches
    from tasks.api.app import create_api_app
    from tasks.collect.push_api import resolve_tokens
    from tasks.recovery.approval import answer_approval

    seen: dict[str, str] = {}  # `token create` shows the token, once: its one place
    assert collect(window_seconds=0.3, return_state=True).is_completed()
    config, db, token = load_config(site["config"]), site["db"], site["token"]
    outcomes: list[str] = []
    runs: list[threading.Thread] = []
    store = MetricStore(make_engine(db))
    # process-wide, as serve_api: the server answers pushes in threads of its own
    with alerting_on_batches(config, db, is_always=True, is_process_wide=True) as engine:
        api = create_api_app(
            store,
            config,
            push_tokens=resolve_tokens(config.collectors.push),
            launch=lambda run: runs.append(_launch(run, outcomes)),
            answer=answer_approval,
            config_path=site["config"],
            alert_engine=engine,
        )
        server = Server(api)
        try:
            seen |= _api_round(server.url, token)
        finally:
            server.close()
    store.engine.dispose()
    # CanaryHot went out on the push; the sweep fires CanaryQuiet and delivers it
    sweep = alert_sweep(window_seconds=1.6, every_seconds=0.8)
    assert sweep["delivery"]["sent"] >= 2 and len(mail.messages) == 2, (sweep, mail.messages)
    for run in runs:
        run.join(timeout=60)
    assert len(outcomes) == 1 and "succeeded" in outcomes[0], outcomes
    seen["emails"] = "\n".join(mail.messages)
    seen["webhook bodies and headers"] = "\n".join(hook.bodies)
    seen |= _cli_round(token, site["token_file"])
    pages = _dashboard_round(monkeypatch, site["config"], db, password=DASHBOARD_PASSWORD)
    seen |= {f"dashboard page {n}": page for n, page in enumerate(pages)}
    return seen


def _launch(run: RecoveryRun, outcomes: list[str]) -> threading.Thread:
    """Run the admitted run as the served deployment would: the real recover flow."""
    from flows.recover import recover

    def body() -> None:
        outcomes.append(recover(run.procedure, run.target, labels={}, trigger=run.trigger,
                                run_id=run.id))  # fmt: skip

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def _api_round(url: str, token: str) -> dict[str, str]:
    """Push (right and wrong token), a wrong API token, a dry run, a run approved by token."""
    seen = {}
    push = {"Content-Type": "text/plain"}
    sample = "canary_probe 1\n"
    with httpx.Client(base_url=url, timeout=30) as http:
        good = http.post("/api/v1/push", content=sample,
                         headers={**push, "Authorization": f"Bearer push-{CANARY}"})  # fmt: skip
        bad = http.post("/api/v1/push", content=sample,
                        headers={**push, "Authorization": f"Bearer wrong-{CANARY}"})  # fmt: skip
        forged = http.get("/api/v1/alerts", headers={"Authorization": f"Bearer x{token}"})
        assert good.status_code < 300 and bad.status_code == 401 and forged.status_code == 401
        seen["API refusals"] = bad.text + forged.text
    auth = {"Authorization": f"Bearer {token}"}
    start = {"procedure": "restart-web", "target": "web-1"}
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        dry = http.post("/api/v1/recoveries", json={**start, "dry_run": True})
        assert dry.status_code == 200, dry.text
        started = http.post("/api/v1/recoveries", json=start)
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        _wait_for(http, run_id, "awaiting_approval")
        approved = http.post(f"/api/v1/recoveries/{run_id}/approve", json={"reason": "go"})
        assert approved.status_code == 200, approved.text
        done = _wait_for(http, run_id, "succeeded")
        alerts = http.get("/api/v1/alerts")
    seen["API answers"] = "\n".join([dry.text, started.text, approved.text, str(done), alerts.text])
    return seen


def _wait_for(http: httpx.Client, run_id: int, state: str) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        shown = http.get(f"/api/v1/recoveries/{run_id}").json()
        if shown["state"] == state:
            return shown
        time.sleep(0.2)
    raise TimeoutError(f"run {run_id} did not reach {state}: {shown}")


def _cli_round(token: str, token_file: Path) -> dict[str, str]:
    """Acknowledge the alert with $VIGIL_API_TOKEN, add a silence with --token-file."""
    acked = runner.invoke(app, ["alerts", "ack", "1", "-m", "on it"],
                          env={"VIGIL_API_TOKEN": token})  # fmt: skip
    assert acked.exit_code == 0, acked.output
    silenced = runner.invoke(app, ["silence", "add", '{target="web-1"}', "--for", "1h",
                                   "--token-file", str(token_file)])  # fmt: skip
    assert silenced.exit_code == 0, silenced.output
    wrong = runner.invoke(
        app, ["alerts", "ack", "1", "-m", "x"], env={"VIGIL_API_TOKEN": f"x{token}"}
    )
    assert wrong.exit_code == 1, wrong.output
    listed = runner.invoke(app, ["alerts", "list"])
    return {f"CLI {n}": r.output for n, r in enumerate((acked, silenced, wrong, listed))}


def _scan_stores(db: str, since: datetime) -> dict[str, str]:
    """Every table of Vigil's store and of the Prefect harness's database, by table."""
    import prefect.settings as ps

    prefect_db = make_url(str(_secret(ps.PREFECT_API_DATABASE_CONNECTION_URL.value()))).database
    assert prefect_db, "the Prefect harness has no SQLite database file"
    _wait_for_prefect_logs(prefect_db, since)
    seen = _tables("store", str(make_url(db).database))
    seen |= _tables("prefect", prefect_db)
    seen["prefect artifacts (client)"] = _artifacts()
    return seen


def _tables(place: str, path: str) -> dict[str, str]:
    """Every row of every table of the SQLite file at ``path`` (read-only: the server writes)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        names = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {f"{place} table {name}": repr(conn.execute(f'SELECT * FROM "{name}"').fetchall())
                for name in names}  # fmt: skip


def _wait_for_prefect_logs(path: str, since: datetime) -> None:
    """Logs and events reach Prefect's database in batches: wait until each flow run of the
    test has its last log line and its Completed event there."""
    query = """SELECT count(*), count(*) FILTER (WHERE
        EXISTS (SELECT 1 FROM log WHERE flow_run_id = f.id AND message LIKE 'Finished in state%')
        AND EXISTS (SELECT 1 FROM events WHERE resource_id = 'prefect.flow-run.' || f.id
                    AND event = 'prefect.flow-run.Completed'))
        FROM flow_run f WHERE f.created >= ?"""
    stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    deadline, counts = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
            counts = conn.execute(query, (stamp,)).fetchone()
        if counts[0] >= 3 and counts[0] == counts[1]:  # collect, recover, alert-sweep
            return
        time.sleep(0.5)
    raise AssertionError(f"flow runs, and those with their logs and events stored: {counts}")


def _artifacts() -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return repr(client.read_artifacts())


def _scan_files(root: Path, allowed: set[Path]) -> dict[str, str]:
    """Every file under ``root`` (logs, databases, state) but the secrets' own holders."""
    return {
        f"file {path.relative_to(root)}": path.read_bytes().decode("utf-8", "replace")
        for path in sorted(root.rglob("*"))
        if path.is_file() and path not in allowed
    }


def _scan_results(since: float) -> dict[str, str]:
    """Files Prefect wrote to its result storage during the test (none while nothing persists)."""
    from prefect.settings import get_current_settings

    root = Path(get_current_settings().results.local_storage_path)
    files = [p for p in root.rglob("*") if p.is_file() and p.stat().st_mtime >= since]
    return {f"prefect result {p.name}": p.read_bytes().decode("utf-8", "replace") for p in files}


def _sent_credential() -> str:
    """The Authorization header Prefect's client sends (the harness server does not ask)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client._client.headers["Authorization"])


def _secret(value: Any) -> Any:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def _around(shown: str, needles: list[str]) -> str:
    at = max(shown.find(needle) for needle in needles)
    return shown[max(0, at - 150) : at + 80]


class _Mailbox:
    """What an SMTP server on loopback received, and the logins it accepted."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.logins: list[tuple[str, str]] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope.content.decode())
        self.arrived.set()
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        from aiosmtpd.smtp import AuthResult

        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


@contextmanager
def _smtp(box: _Mailbox) -> Iterator[int]:
    """A real SMTP server on loopback that asks for a login (without TLS: loopback only)."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port,
                            authenticator=box.authenticate, auth_require_tls=False)  # fmt: skip
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class _Hook:
    """A webhook receiver on loopback: each request's query, headers and body."""

    def __init__(self) -> None:
        self.port = free_port()
        self.bodies: list[str] = []
        self.queries: list[str] = []
        self.arrived = threading.Event()

    @contextmanager
    def serving(self) -> Iterator[None]:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path, _, query = self.path.partition("?")
                hook.queries.append(query)  # the URL is the transport: its token may be there
                hook.bodies.append(f"{path}\n{self.headers}\n{body.decode()}")
                self.send_response(200)
                self.end_headers()
                hook.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()
