"""The dashboard as a process: its `streamlit run` command line."""

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app" / "asgi.py"  # pages + the cookie route


def streamlit_command(
    host: str, port: int, *, tls_cert: str | None = None, tls_key: str | None = None
) -> list[str]:
    """Return the `streamlit run` command line of the dashboard (headless, no telemetry)."""
    tls = [f"--server.sslCertFile={tls_cert}", f"--server.sslKeyFile={tls_key}"] if tls_cert else []
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        f"--server.address={host}",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=minimal",
        *tls,
    ]
