"""Fixtures for check tests: real HTTP(S) servers and TCP listeners on loopback."""

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import ports
from tests.checks.loopback import Certificate, HttpServer, Listener, make_certificate, serve


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    """A plain HTTP server on loopback."""
    yield from serve()


@pytest.fixture
def https_server(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[HttpServer, Certificate]]:
    """An HTTPS server whose self-signed certificate is valid for ``param`` days (default 30)."""
    days = getattr(request, "param", 30)
    certificate = make_certificate(tmp_path, days)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    yield from ((server, certificate) for server in serve(context))


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on."""
    return ports.free_port()


@pytest.fixture
def tcp_listener(free_port: int) -> Iterator[Listener]:
    """A TCP listener (open at first) on a loopback port."""
    listener = Listener(free_port)
    listener.open()
    yield listener
    listener.close()
