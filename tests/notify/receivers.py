"""HTTP receivers on loopback that record what a service would receive, and the one interception.

``Receiver`` is a real HTTP server: it records each request (method, path, headers, body)
and answers ``ok`` (200), ``error`` (500) or ``hang`` (reads the request, never answers).

``redirect_to`` is the one allowed fake: Slack's and Twilio's hosts are fixed clouds that
cannot be reached offline, so requests' transport adapter sends their requests to a local
``Receiver`` instead (the bytes apprise's plugin wrote are unchanged; only the address is).
"""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests.adapters

from tests.ports import free_port


@dataclass
class Request:
    """One request a receiver answered."""

    method: str
    host: str  # the Host header: the service's own host when redirected
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


class Receiver:
    """A loopback HTTP server whose answer can be switched: ok, error or hang."""

    def __init__(self, mode: str = "ok", reply: bytes = b"ok", status: int = 200) -> None:
        self.port = free_port()
        self.mode = mode
        self.reply, self.status = reply, status
        self.answered: list[Request] = []  # only requests it answered with success
        self.calls = 0  # every request it got, answered or not
        self.arrived = threading.Event()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(size)
                receiver.calls += 1
                if receiver.mode == "hang":
                    receiver._release.wait(30)  # accepted and read, never answered
                    return
                if receiver.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.answered.append(
                    Request("POST", self.headers["Host"], self.path, dict(self.headers), body)
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)
                receiver.arrived.set()

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        ThreadingHTTPServer.daemon_threads = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def release(self) -> None:
        """Let the requests it hangs on end (unanswered)."""
        self._release.set()

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def redirect_to(monkeypatch, receiver: Receiver, hosts: set[str]) -> None:  # type: ignore[no-untyped-def]
    """Send requests for ``hosts`` (cloud services unreachable offline) to ``receiver``."""
    real_send = requests.adapters.HTTPAdapter.send

    def send(adapter, request, **kwargs):  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        if parts.hostname in hosts:
            request.headers["Host"] = parts.hostname
            request.url = parts._replace(scheme="http", netloc=receiver.address).geturl()
        return real_send(adapter, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
