"""The `vigil` command line."""

from pathlib import Path

import typer

from models.config import load_config
from models.config.starter import starter_config
from models.settings import get_settings
from vigil import __version__
from vigil.cli_analytics import forecast_command, models_app
from vigil.errors import ConfigError, VigilError

app = typer.Typer(
    help="Vigil watches services and hosts, forecasts trouble, alerts once, heals under control.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the metric store's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")
app.command("forecast")(forecast_command)

ConfigOption = typer.Option(
    None, "--config", "-c", help="Config file (default: $VIGIL_CONFIG_PATH or ./vigil.yaml)."
)
DbOption = typer.Option(
    None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL or sqlite:///vigil.db)."
)


def _fail(error: VigilError) -> typer.Exit:
    typer.secho(str(error), err=True, fg=typer.colors.RED)
    return typer.Exit(code=2 if isinstance(error, ConfigError) else 1)


@app.command()
def version() -> None:
    """Print Vigil's version."""
    typer.echo(__version__)


@app.command()
def init(
    path: Path = typer.Argument(Path("vigil.yaml"), help="Where to write the starter config."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter vigil.yaml that watches this host."""
    if path.exists() and not force:
        typer.secho(f"{path} exists; keeping it (use --force to overwrite)", err=True)
        raise typer.Exit(code=1)
    path.write_text(starter_config(), encoding="utf-8")
    typer.echo(f"wrote {path}; check it with `vigil validate {path}`")


@app.command()
def validate(path: Path | None = typer.Argument(None, help="Config file to check.")) -> None:
    """Check a config file; print every problem as file:line: field: what was expected."""
    path = path or get_settings().config_path
    try:
        config = load_config(path)
    except ConfigError as error:
        raise _fail(error) from None
    typer.echo(f"{path}: ok ({_summary(config)})")


@db_app.command("upgrade")
def db_upgrade(
    db: str | None = DbOption,
    revision: str = typer.Option("head", help="Revision to upgrade to."),
) -> None:
    """Apply schema migrations to the store (safe to run again)."""
    from models.migrate import current_revision, upgrade

    url = db or get_settings().database_url
    try:
        upgrade(url, revision)
    except Exception as exc:
        typer.secho(f"cannot migrate {url}: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None
    typer.echo(f"store {url} is at revision {current_revision(url)}")


@db_app.command("current")
def db_current(db: str | None = DbOption) -> None:
    """Print the store's schema revision and the newest one this Vigil knows."""
    from models.migrate import current_revision, head_revision

    url = db or get_settings().database_url
    typer.echo(
        f"store {url}: revision {current_revision(url) or 'none'} (newest: {head_revision()})"
    )


@app.command()
def up(config: Path | None = ConfigOption, db: str | None = DbOption) -> None:
    """Start Vigil on its embedded defaults: starter config, migrated store, what it watches."""
    from models.migrate import current_revision, upgrade

    settings = get_settings()
    path = config or settings.config_path
    if not path.exists():
        path.write_text(starter_config(), encoding="utf-8")
        typer.echo(f"wrote starter config {path}")
    try:
        loaded = load_config(path)
    except ConfigError as error:
        raise _fail(error) from None
    url = db or settings.database_url
    upgrade(url)
    typer.echo(f"store {url} is at revision {current_revision(url)}")
    typer.echo(f"config {path}: {_summary(loaded)}")
    for target in loaded.targets:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(target.labels.items()))
        typer.echo(f"  watching {target.kind} {target.name} ({target.address or 'local'}) {labels}")
    host = loaded.collectors.host
    if host.enabled:
        typer.echo(f"  host metrics every {host.interval.total_seconds():g}s")


def _summary(config) -> str:  # type: ignore[no-untyped-def]
    parts = {
        "targets": config.targets,
        "checks": config.checks,
        "rules": config.rules,
        "channels": config.channels,
        "procedures": config.procedures,
    }
    return ", ".join(f"{len(items)} {name}" for name, items in parts.items())
