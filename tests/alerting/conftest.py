"""Alerting fixtures: a real HTTP webhook receiver, a real SMTP server, engines from YAML."""

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Webhook:
    """An HTTP server on loopback that records every JSON body apprise posts to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict] = []
        self.arrived = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/alerts"

    def start(self) -> None:
        received, arrived = self.received, self.arrived

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(size)))
                self.send_response(200)
                self.end_headers()
                arrived.set()

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def titles(self) -> list[str]:
        return [m["title"] for m in self.received]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


class Mailbox:
    """Messages an aiosmtpd server on loopback received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    upgrade(url)
    return url


@pytest.fixture
def make_alert_engine(sqlite_url):  # type: ignore[no-untyped-def]
    """Build an AlertEngine from vigil.yaml text on a migrated database (SQLite by default)."""
    made = []

    def make(yaml_text: str, url: str | None = None, **kwargs) -> AlertEngine:  # type: ignore[no-untyped-def]
        db = make_engine(url or sqlite_url)
        kwargs.setdefault("store", MetricStore(db))
        kwargs.setdefault("emit", None)
        engine = AlertEngine(db, build_plan(parse_config(yaml_text)), **kwargs)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.outbox.stop()
        engine.db.dispose()
