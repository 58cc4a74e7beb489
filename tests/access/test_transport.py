"""Transport: loopback by default, a warning for a wider bind without TLS or auth, and HTTPS
on the push server and the dashboard with a self-signed certificate made here."""

import datetime as dt
import ipaddress
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from models.config.root import VigilConfig
from models.migrate import upgrade
from tests.ports import free_port
from vigil.cli import app

REPO = Path(__file__).resolve().parents[2]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_every_server_binds_loopback_unless_configured():
    config = VigilConfig()
    assert (config.dashboard.host, config.collectors.push.host) == ("127.0.0.1", "127.0.0.1")


def test_a_wider_bind_without_tls_or_auth_is_warned_about(tmp_path, monkeypatch):
    (tmp_path / "vigil.yaml").write_text("""
collectors:
  push: {enabled: true, host: 0.0.0.0, tokens: [{name: a, token: t0k}]}
dashboard: {host: 0.0.0.0}
""")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIL_BIND_HOST", "0.0.0.0")
    result = CliRunner().invoke(app, ["up", "--check", "--db", f"sqlite:///{tmp_path}/v.db"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 3, result.output
    prefect, push, board = warnings
    assert "the Prefect server listens on 0.0.0.0:" in prefect and "without TLS" in prefect
    assert "push tokens and samples cross the network in clear text" in push
    assert "without authentication" not in push  # it has tokens
    assert "the dashboard listens on 0.0.0.0:8501" in board
    assert "without TLS" in board and "without authentication" in board


def trusting(cert: Path) -> ssl.SSLContext:
    """A client context that trusts the self-signed ``cert`` (and nothing else)."""
    return ssl.create_default_context(cafile=str(cert))


def _wait_https(url: str, cert: Path, process: subprocess.Popen, log: Path) -> httpx.Response:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(url, verify=trusting(cert), timeout=2)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer: {log.read_text()}")


@pytest.fixture
def tls_vigil(tmp_path):  # type: ignore[no-untyped-def]
    """A vigil.yaml with TLS on the push server and the dashboard; a migrated store."""
    cert, key = self_signed(tmp_path)
    push_port, board_port = free_port(), free_port()
    (tmp_path / "vigil.yaml").write_text(f"""
collectors:
  push:
    enabled: true
    port: {push_port}
    tokens: [{{name: sender, token: push-t0ken}}]
    tls_cert: {cert}
    tls_key: {key}
dashboard: {{port: {board_port}, tls_cert: {cert}, tls_key: {key}}}
""")
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    started: list[subprocess.Popen] = []  # type: ignore[type-arg]

    def start(*args: str) -> tuple[subprocess.Popen, Path]:  # type: ignore[type-arg]
        log = tmp_path / f"{args[0]}.log"
        command = [
            sys.executable,
            "-m",
            "vigil.cli",
            *args,
            "--config",
            str(tmp_path / "vigil.yaml"),
        ]
        process = subprocess.Popen(
            [*command, "--db", url],
            cwd=tmp_path,
            env={
                **os.environ,
                "PYTHONPATH": str(REPO),
                "PREFECT_API_URL": "http://127.0.0.1:9/api",
            },
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process, log

    yield start, cert, push_port, board_port
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_the_push_server_and_the_dashboard_speak_https_with_the_configured_cert(tls_vigil):
    start, cert, push_port, board_port = tls_vigil
    push, push_log = start("collect", "push-server")
    board, board_log = start("dashboard")
    health = _wait_https(f"https://127.0.0.1:{push_port}/healthz", cert, push, push_log)
    assert health.status_code == 200
    sent = httpx.post(
        f"https://127.0.0.1:{push_port}/api/v1/push",
        content="tls_probe 1\n",
        headers={"Authorization": "Bearer push-t0ken", "Content-Type": "text/plain"},
        verify=trusting(cert),
        timeout=10,
    )
    assert sent.status_code < 300, sent.text
    with pytest.raises(httpx.HTTPError):  # plain HTTP is not served
        httpx.get(f"http://127.0.0.1:{push_port}/healthz", timeout=2)
    page = _wait_https(f"https://127.0.0.1:{board_port}/_stcore/health", cert, board, board_log)
    assert page.status_code == 200 and page.text == "ok"
