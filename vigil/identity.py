"""Who a writing command acts as: `--as-admin`, or an API token from the environment or a file."""

import os
from pathlib import Path

import typer

from models.config import load_config
from models.config.dashboard import Role
from models.errors import AccessError, ConfigError
from models.settings import get_settings
from tasks.access.cli_identity import admin_identity, no_identity, presented_token, token_identity
from tasks.core.access.cli_identity import DEFAULT_TOKEN_FILE, TOKEN_ENV, Actor

AsAdminOption = typer.Option(
    False,
    "--as-admin",
    help="Act as the local admin (only for the OS user who owns the state directory).",
)
TokenFileOption = typer.Option(
    None,
    "--token-file",
    help=f"File holding your API token, mode 0600 (default: ${TOKEN_ENV}, "
    f"else {DEFAULT_TOKEN_FILE} if it exists).",
)
ConfigOption = typer.Option(
    None, "--config", "-c", help="Config file whose dashboard.users the token must belong to."
)


def acting_as(
    needed: Role,
    *,
    as_admin: bool,
    token_file: Path | None,
    config: Path | None,
    db: str | None,
) -> Actor:
    """Return who this command acts as (said on stderr), or exit 1 saying why it may not."""
    settings = get_settings()
    try:
        if as_admin:
            actor = admin_identity(settings.state_dir)
        else:
            actor = _by_token(needed, token_file, config, db)
    except AccessError as error:
        typer.secho(f"refused: {error}", err=True, fg="red")
        raise typer.Exit(code=1) from None
    typer.echo(actor.describe(), err=True)
    return actor


def _by_token(needed: Role, token_file: Path | None, config: Path | None, db: str | None) -> Actor:
    from models.db import make_engine

    presented = presented_token(os.environ, token_file)
    if presented is None:
        raise no_identity()
    settings = get_settings()
    path = config or settings.config_path
    try:
        users = load_config(path).dashboard.users
    except ConfigError as error:
        raise AccessError(f"the token's user cannot be checked: {path}: {error}") from None
    return token_identity(make_engine(db or settings.database_url), users, presented, needed)
