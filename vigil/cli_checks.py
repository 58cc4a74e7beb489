"""`vigil checks …`: list, run and show health checks."""

from pathlib import Path

import typer

from models.config import load_config
from models.errors import ConfigError
from models.settings import get_settings

checks_app = typer.Typer(help="Health checks and health scores.", no_args_is_help=True)

ConfigOption = typer.Option(None, "--config", "-c", help="Config file (default: ./vigil.yaml).")
DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")


def _config_path(config: Path | None) -> Path:
    return config or get_settings().config_path


def _fail(message: str, code: int) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code=code)


@checks_app.command("list")
def list_checks(config: Path | None = ConfigOption) -> None:
    """List the configured checks: type, target/component, interval, parents."""
    try:
        loaded = load_config(_config_path(config))
    except ConfigError as error:
        raise _fail(str(error), 2) from None
    for check in loaded.checks:
        parents = f" after {', '.join(check.depends_on)}" if check.depends_on else ""
        typer.echo(
            f"{check.name:24} {check.type:8} {check.target}/{check.component_name} "
            f"every {check.interval.total_seconds():g}s{parents}"
        )
    typer.echo(f"{len(loaded.checks)} checks")


@checks_app.command("run")
def run(
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
    once: bool = typer.Option(False, "--once", help="Run every check once, then stop."),
    window: float = typer.Option(300.0, help="Seconds per stored window when running on."),
) -> None:
    """Run the checks (without Prefect): once, or on their intervals until interrupted."""
    from models.migrate import upgrade
    from tasks.checks.session import run_check_window

    path, url = _config_path(config), db or get_settings().database_url
    upgrade(url)
    try:
        while True:
            summary = run_check_window(path, url, window_s=0 if once else window, force=once)
            typer.echo(
                f"{summary.results} in {summary.batches} batches; system health "
                f"{summary.system_score} ({summary.system_level})"
            )
            if once:
                break
    except ConfigError as error:
        raise _fail(str(error), 2) from None
    except KeyboardInterrupt:
        typer.echo("stopped")
    _print_status(url)


@checks_app.command("status")
def status(db: str | None = DbOption) -> None:
    """Show each check's current state and the newest target and system scores."""
    _print_status(db or get_settings().database_url)


def _print_status(url: str) -> None:
    from models.db import make_engine
    from tasks.checks.status_store import current_states, newest_scores

    engine = make_engine(url)
    try:
        for state in current_states(engine):
            hardness = "hard" if state.is_hard else "soft"
            typer.echo(
                f"{state.check:24} {state.target:16} {state.status:11} {hardness} {state.message}"
            )
        for score in newest_scores(engine):
            shown = "-" if score["score"] is None else f"{score['score']:.1f}"
            typer.echo(f"{score['scope']:7} {score['node']:24} {shown:>6} {score['level']}")
    finally:
        engine.dispose()
