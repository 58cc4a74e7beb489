"""Test helpers: write through the real store and seam; a real webhook receiver."""

import getpass
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from models.alerting import AlertTransition, Notification
from models.store import NewSample
from tasks.alerting.engine import AlertEngine
from tasks.store.batch_hooks import BatchWritten, publish
from tests.ports import free_port

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()
ADMIN = f"local-admin:{getpass.getuser()}"  # who `--as-admin` acts as (see owned_state_dir)


class Webhook:
    """An HTTP server on loopback that records every JSON body apprise posts to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict] = []
        self.paths: list[str] = []
        self.arrived = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/alerts"

    def start(self) -> None:
        received, arrived, paths = self.received, self.arrived, self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(size)))
                paths.append(self.path)
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


def write(engine: AlertEngine, at: float, samples: list[tuple]) -> None:
    """Store ``samples`` (name, labels, value[, ts]) at ``at`` and hand the batch to the engine."""
    assert engine.store is not None
    batch = [NewSample(s[0], s[1], s[3] if len(s) > 3 else at, s[2]) for s in samples]
    result = engine.store.write(batch)
    assert not result.rejected
    publish(BatchWritten("push", datetime.fromtimestamp(at, UTC), batch), [engine.on_batch])


def outbox(engine: AlertEngine) -> list[dict]:
    with engine.db.connect() as conn:
        rows = conn.execute(select(Notification.__table__).order_by(Notification.id))
        return [dict(r._mapping) for r in rows]


def transitions(engine: AlertEngine) -> list[tuple[str, str]]:
    table = AlertTransition.__table__
    with engine.db.connect() as conn:
        rows = conn.execute(select(table.c.from_state, table.c.to_state).order_by(table.c.id))
        return [tuple(r) for r in rows]


def recovery_hook(config, db, launch):  # type: ignore[no-untyped-def]
    """The production ``on_firing`` reaction (tasks.recovery.remediation) with a test launcher."""
    from tasks.alerting.plan import build_plan
    from tasks.recovery.remediation import Remediator

    return Remediator(config, db, build_plan(config), launch).on_firing


class Mailbox:
    """Messages an aiosmtpd server on loopback received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"

    def subjects(self) -> list[str]:
        """The Subject line of every message, in arrival order."""
        return [
            line.removeprefix("Subject: ")
            for _, _, raw in self.messages
            for line in raw.splitlines()
            if line.startswith("Subject: ")
        ]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a loopback port; yields its mailbox and port."""
    from aiosmtpd.controller import Controller

    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
