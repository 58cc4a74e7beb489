"""The dashboard as a process: its `streamlit run` command line and its `vigil up` service."""

import sys
from pathlib import Path

from deployments.services import prefect_api_url
from deployments.supervisor import Service
from models.config.dashboard import DashboardConfig
from models.settings import Settings

APP = Path(__file__).resolve().parent.parent / "app" / "main.py"


def streamlit_command(host: str, port: int) -> list[str]:
    """Return the `streamlit run` command line of the dashboard (headless, no telemetry)."""
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
    ]


def dashboard_service(settings: Settings, section: DashboardConfig) -> Service:
    """The dashboard for `vigil up`, reading the same store, config and Prefect server."""
    base = f"http://{section.host}:{section.port}"
    env = {
        "VIGIL_CONFIG_PATH": str(settings.config_path.resolve()),
        "VIGIL_DATABASE_URL": settings.database_url,
        "PREFECT_API_URL": section.prefect_api_url or prefect_api_url(settings),
    }
    return Service(
        name="dashboard",
        argv=streamlit_command(section.host, section.port),
        url=base,
        health_url=f"{base}/_stcore/health",
        env=env,
    )
