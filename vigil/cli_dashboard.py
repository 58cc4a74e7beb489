"""`vigil dashboard`: start the Streamlit dashboard; `vigil dashboard hash-password`."""

import os
import subprocess
from pathlib import Path

import typer

from deployments.dashboard import streamlit_command
from models.config import load_config
from models.config.root import VigilConfig
from models.errors import ConfigError
from models.settings import get_settings
from models.vocabulary.passwords import hash_password
from tasks.core.access.exposure import bind_warning

dashboard_app = typer.Typer(help="The Streamlit dashboard.")


@dashboard_app.callback(invoke_without_command=True)
def dashboard(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", "-c", help="vigil.yaml to read."),
    db: str | None = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL)."),
    host: str | None = typer.Option(None, help="Address to listen on (default: dashboard.host)."),
    port: int | None = typer.Option(None, help="Port (default: dashboard.port, 8501)."),
) -> None:
    """Start the dashboard on the configured address and port (Ctrl-C stops it)."""
    if ctx.invoked_subcommand:
        return
    settings = get_settings()
    path = (config or settings.config_path).resolve()
    try:
        loaded = load_config(path) if path.exists() else VigilConfig()
    except ConfigError as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    section = loaded.dashboard
    host, port = host or section.host, port or section.port
    command = streamlit_command(host, port, tls_cert=section.tls_cert, tls_key=section.tls_key)
    env = {**os.environ, "VIGIL_CONFIG_PATH": str(path)}
    env["VIGIL_DATABASE_URL"] = db or settings.database_url
    warning = bind_warning(
        "the dashboard",
        host,
        port,
        has_tls=section.tls_cert is not None,
        has_auth=bool(section.users),
        carries="passwords and session cookies",
    )
    if warning:
        typer.secho(warning, err=True, fg=typer.colors.YELLOW)
    typer.echo(f"dashboard on {section.scheme}://{host}:{port}")
    raise typer.Exit(code=subprocess.call(command, env=env))


@dashboard_app.command("hash-password")
def hash_password_command() -> None:
    """Ask for a password twice and print its scrypt hash for dashboard.users[].password_hash."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        typer.echo(hash_password(password))
    except ValueError as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
