"""The processes `vigil up` runs, built from the settings."""

import sys

from deployments.supervisor import Service
from models.settings import Settings


def prefect_api_url(settings: Settings) -> str:
    """Return the API URL of the local Prefect server."""
    return f"http://{settings.bind_host}:{settings.prefect_port}/api"


def prefect_server(settings: Settings) -> Service:
    """The local Prefect server: API, UI and the scheduler that fires deployments."""
    env = {
        "PREFECT_HOME": str((settings.state_dir / "prefect").resolve()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true",
    }
    if settings.prefect_database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = settings.prefect_database_url
    argv = [sys.executable, "-m", "prefect", "server", "start"]
    argv += ["--host", settings.bind_host, "--port", str(settings.prefect_port)]
    return Service(
        name="prefect-server",
        argv=argv,
        url=f"http://{settings.bind_host}:{settings.prefect_port}",
        health_url=f"{prefect_api_url(settings)}/health",
        env=env,
    )


def vigil_services(settings: Settings) -> list[Service]:
    """Every service of a local Vigil, in start order."""
    return [prefect_server(settings)]
