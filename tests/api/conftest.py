"""The API served by uvicorn on loopback over a real store, with a token per role."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from models.config import load_config, parse_config
from models.config.dashboard import Role
from models.config.root import VigilConfig
from models.db import make_engine
from models.recovery import RecoveryRun
from models.store import MetricStore, NewSample
from models.vocabulary.passwords import hash_password
from tasks.alerting import store as repo
from tasks.alerting.engine import AlertEngine
from tasks.alerting.store import AlertRow
from tasks.api.app import create_api_app
from tasks.api.token_store import create_token
from tasks.core.alerting.lifecycle import AlertState, Lifecycle
from tests.collect.conftest import throwaway_pg  # noqa: F401  (a PostgreSQL of its own to stop)
from tests.ports import free_port
from tests.served import api_process  # noqa: F401  (test_fuzz imports it from here)

NOW = datetime.now(UTC).replace(microsecond=0)
PUSH_TOKEN = "push-secret"
USERS = """
dashboard:
  users:
    - {{name: ann, role: admin, password_hash: "{hash}"}}
    - {{name: olga, role: operator, password_hash: "{hash}"}}
    - {{name: vic, role: viewer, password_hash: "{hash}"}}
"""
CONFIG = (
    USERS
    + """collectors:
  push:
    enabled: true
    port: {port}
    tokens: [{{name: ci, token: {push}}}]
rules:
  - name: HighCpu
    series: cpu
    value: 90
    for: 2m
    severity: critical
procedures:
  - name: restart-web
    approval: required
    approval_timeout: 1m
    limits: {{max_runs: 1, window: 1h, cooldown: 0s}}
    steps:
      - type: command
        argv: ["true"]
maintenance_windows:
  - name: nightly
    match: '{{target="db"}}'
    schedule: "0 2 * * *"
    duration: 1h
"""
)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password("not-used-here")  # scrypt is slow: once per session


@pytest.fixture
def api_config_path(tmp_path: Path, password_hash: str) -> Path:
    path = tmp_path / "vigil.yaml"
    path.write_text(CONFIG.format(hash=password_hash, push=PUSH_TOKEN, port=free_port()))
    return path


class Server:
    """An ASGI app served by uvicorn on a loopback port of its own, in a thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([self.sock],), daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Any], Server]]:
    """Serve apps for one test; stop them afterwards."""
    started: list[Server] = []

    def start(app: Any) -> Server:
        started.append(Server(app))
        return started[-1]

    yield start
    for served in started:
        served.close()


@dataclass
class Api:
    """A running API: its URL, store, config and one token per role."""

    url: str
    store: MetricStore
    config: VigilConfig
    tokens: dict[Role, str]
    launched: list[RecoveryRun] = field(default_factory=list)

    def client(self, role: Role | None) -> httpx.Client:
        """A client presenting the token of ``role`` (None: no token)."""
        headers = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_api(
    db_url: str,
    config_path: Path,
    *,
    launch: Callable[[RecoveryRun], object] | None = None,
    answer: Callable[..., None] | None = None,
) -> tuple[Api, Server]:
    """Serve the API over ``db_url`` with tokens ann/admin, olga/operator, vic/viewer."""
    config = load_config(config_path)
    store = MetricStore(make_engine(db_url))
    launched: list[RecoveryRun] = []
    tokens = make_tokens(store, config)

    def refuse_answer(*_: Any, **__: Any) -> None:
        raise RuntimeError("no paused flow run in this test")

    app = create_api_app(
        store,
        config,
        push_tokens={PUSH_TOKEN: "ci"},
        launch=launch or launched.append,
        answer=answer or refuse_answer,
        config_path=config_path,
    )
    server = Server(app)
    return Api(server.url, store, config, tokens, launched), server


def refuse(*_: Any, **__: Any) -> None:
    raise RuntimeError("no recovery is launched or answered in this test")


def compat_app(
    store: MetricStore,
    config_text: str,
    password_hash: str,
    alert_engine: AlertEngine | None = None,
) -> tuple[FastAPI, dict[Role, str]]:
    """The API app over ``store``: ``config_text`` plus users ann, olga, vic; a token per role."""
    config = parse_config(USERS.format(hash=password_hash) + config_text)
    app = create_api_app(
        store, config, push_tokens={}, launch=refuse, answer=refuse, alert_engine=alert_engine
    )
    return app, make_tokens(store, config)


def make_tokens(store: MetricStore, config: VigilConfig) -> dict[Role, str]:
    """Tokens ann-bot (admin), olga-bot (operator), vic-bot (viewer), by their role."""
    users = config.dashboard.users
    return {
        role: create_token(
            store.engine, users, name=f"{user}-bot", user=user, role=role, by="test", now=NOW
        )
        for user, role in [("ann", Role.ADMIN), ("olga", Role.OPERATOR), ("vic", Role.VIEWER)]
    }


@pytest.fixture
def api(db_url: str, api_config_path: Path) -> Iterator[Api]:
    """The API over a migrated store (SQLite and PostgreSQL)."""
    running, server = start_api(db_url, api_config_path)
    yield running
    server.close()
    running.store.engine.dispose()


@pytest.fixture
def sqlite_api(tmp_path: Path, api_config_path: Path) -> Iterator[Api]:
    """The API over a migrated SQLite file only (for tests of auth, not of the store)."""
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'api.db'}"
    upgrade(url)
    running, server = start_api(url, api_config_path)
    yield running
    server.close()
    running.store.engine.dispose()


def firing_alert(store: MetricStore, *, target: str = "web-1", rule: str = "HighCpu") -> AlertRow:
    """Store a firing alert and return it (with its id)."""
    fired = (NOW - timedelta(minutes=5)).timestamp()
    row = AlertRow(
        fingerprint=f"fp-{target}-{rule}"[:32],
        rule=rule,
        labels={"target": target, "severity": "critical", "metric": "cpu"},
        lifecycle=Lifecycle(AlertState.FIRING, fired - 120, fired),
        value=95.0,
    )
    with store.engine.begin() as conn:
        repo.insert_alert(conn, row, fired)
    return row


def day_of_samples(store: MetricStore, *, step_s: int = 60) -> int:
    """Store one day of cpu{host="a"} every ``step_s``; return how many."""
    start = NOW - timedelta(days=1)
    samples = [
        NewSample("cpu", {"host": "a"}, start + timedelta(seconds=i * step_s), float(i % 100))
        for i in range(86_400 // step_s)
    ]
    store.write(samples)
    return len(samples)
