"""Secrets stay secret: a distinctive canary in every secret slot, a scenario over the real
processes, then a scan of every table, log, command output and dashboard page.

The scenario: `vigil up --check` (config audit), the push server started with the canary
push token (one good push, one wrong token), a failed and a right dashboard login, a
recovery approval code, and the Access and Recoveries pages rendered as an admin. Prefect
flows, artifacts, API tokens and delivered notifications: see test_canary_flows.py.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import MetaData, select
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from models.db import make_engine
from models.vocabulary.passwords import hash_password
from tests.dashboard.helpers import MAIN, PASSWORD, write_config
from tests.ports import free_port
from vigil.cli import app

REPO = Path(__file__).resolve().parents[2]
CANARY = "CANARY-c4n4ry-7f3e9d"


def test_the_canary_appears_in_no_table_log_output_or_page(tmp_path, monkeypatch):
    port = free_port()
    top = f"""collectors:
  push:
    enabled: true
    port: {port}
    tokens: [{{name: sender, token: "push-{CANARY}"}}]
channels:
  - {{name: ops, url: "mailto://vigil:smtp-{CANARY}@127.0.0.1:2525?from=vigil@example.com&to=ops@example.com&mode=insecure"}}
"""
    config = write_config(tmp_path / "vigil.yaml", hash_password(PASSWORD), "", top)
    state = tmp_path / ".vigil"
    state.mkdir()
    credential = state / "prefect-auth"
    credential.write_text(f"vigil:prefect-{CANARY}\n")
    credential.chmod(0o600)
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    monkeypatch.chdir(tmp_path)
    seen: list[str] = []

    checked = CliRunner().invoke(app, ["up", "--check", "--config", str(config), "--db", db])
    assert checked.exit_code == 0, checked.output
    seen.append(checked.output)
    seen.append(_push_round(config, db, port, tmp_path / "push.log"))
    seen.extend(_dashboard_round(monkeypatch, config, db))

    engine = make_engine(db)
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            seen.append(repr(conn.execute(select(table)).all()))
    engine.dispose()
    everything = "\n".join(seen)  # the scan did read what happened:
    assert "canary_probe" in everything and "refused_locked" not in everything
    assert "'admin-user', 'failed'" in everything and "'admin-user', 'login'" in everything
    leaks = [text for text in seen if CANARY in text]
    assert leaks == [], leaks[0][:2000] if leaks else ""


def _push_round(config: Path, db: str, port: int, log: Path) -> str:
    """Start the push server, push once with the token and once without; return its log."""
    command = [sys.executable, "-m", "vigil.cli", "collect", "push-server"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--config", str(config), "--db", db],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            sample = "canary_probe 1\n"
            good = {"Authorization": f"Bearer push-{CANARY}", "Content-Type": "text/plain"}
            assert httpx.post(f"{url}/api/v1/push", content=sample, headers=good).status_code < 300
            bad = {"Authorization": f"Bearer wrong-{CANARY}", "Content-Type": "text/plain"}
            assert httpx.post(f"{url}/api/v1/push", content=sample, headers=bad).status_code == 401
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
    return log.read_text()


def _dashboard_round(monkeypatch, config: Path, db: str, password: str = PASSWORD) -> list[str]:  # type: ignore[no-untyped-def]
    """Log in (a wrong, then the right password) and render the Access and Recoveries pages."""
    monkeypatch.setenv("VIGIL_CONFIG_PATH", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", db)
    texts = []
    for typed in (f"wrong-{CANARY}", password):
        at = AppTest.from_file(MAIN, default_timeout=60).run()
        at.text_input[0].input("admin-user")
        at.text_input[1].input(typed)
        at.button[0].click().run()
        texts.append(_page_text(at))
        time.sleep(1.1)  # past the throttle a wrong password earns (1 s), or the right one waits
    for page in ("views/access.py", "views/recoveries.py", "views/alerts.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        texts.append(_page_text(at))
    return texts


def _page_text(at: AppTest) -> str:
    shown = [
        e for e in at.main if hasattr(e, "value") and e.type != "text_input"
    ]  # typed: not ours
    parts = [repr(element.value) for element in shown]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)
