"""Real loopback servers for check tests: HTTP(S) with answers the test controls, TCP listeners."""

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Answer:
    """What the test server answers on one path."""

    status: int = 200
    body: str = "ok"
    delay_s: float = 0.0
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HttpServer:
    """A threaded HTTP(S) server on 127.0.0.1:<port>; set ``answers[path]`` to control it."""

    base_url: str
    answers: dict[str, Answer] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    client_ports: list[int] = field(default_factory=list)  # one per request: which connection


def _handler(server: HttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            answer = server.answers.get(self.path, Answer(404, "not found"))
            server.hits[self.path] = server.hits.get(self.path, 0) + 1
            server.client_ports.append(self.client_address[1])
            time.sleep(answer.delay_s)
            body = answer.body.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    return Handler


def serve(context: ssl.SSLContext | None = None) -> Iterator[HttpServer]:
    scheme = "https" if context else "http"
    state = HttpServer("")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    if context:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.base_url = f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate made for one test and the files holding it."""

    cert_file: Path
    key_file: Path
    not_after: dt.datetime


def make_certificate(directory: Path, days_valid: float) -> Certificate:
    """Make a self-signed certificate for 127.0.0.1/localhost valid for ``days_valid`` days."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil-test")])
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=days_valid)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"cert-{days_valid}.pem", directory / f"key-{days_valid}.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_file, key_file, cert.not_valid_after_utc)


class Listener:
    """A TCP listener the test opens and closes on a fixed port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def open(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
