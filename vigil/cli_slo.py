"""`vigil slo …`: service level objectives, their error budgets and burn rates."""

import time
from pathlib import Path

import typer

from models.config import load_config
from models.errors import ConfigError
from models.settings import get_settings
from models.vocabulary.durations import format_duration

slo_app = typer.Typer(help="Service level objectives: SLI, error budget, burn rates.")

ConfigOption = typer.Option(None, "--config", "-c", help="Config file (default: ./vigil.yaml).")
DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def _open(config: Path | None, db: str | None):  # type: ignore[no-untyped-def]
    from models.db import make_engine
    from models.store import MetricStore

    try:
        loaded = load_config(config or get_settings().config_path)
    except ConfigError as error:
        raise _fail(str(error)) from None
    return loaded, MetricStore(make_engine(db or get_settings().database_url))


def _percent(share: float | None, digits: int = 3) -> str:
    return "no data" if share is None else f"{share * 100:.{digits}f}%"


@slo_app.command("list")
def list_slos(config: Path | None = ConfigOption, db: str | None = DbOption) -> None:
    """Every SLO now: target, SLI, error budget left, and which burn-rate pairs fire."""
    from tasks.slo.read import slo_rows

    loaded, store = _open(config, db)
    if not loaded.slos:
        typer.echo("no SLOs; add `slos:` to vigil.yaml (see docs/slo.md)")
        return
    typer.echo(f"{'SLO':20} {'target':>9} {'window':>6} {'SLI':>9} {'budget left':>12}  burning")
    for row in slo_rows(loaded, store, time.time()):
        typer.echo(
            f"{row['slo']:20} {_percent(row['target']):>9} {row['window_days']:>5g}d "
            f"{_percent(row['sli']):>9} {_percent(row['budget_remaining'], 1):>12}  "
            f"{', '.join(row['burning']) or '-'}"
        )


@slo_app.command("show")
def show(
    name: str = typer.Argument(help="The SLO's name."),
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """One SLO: its source, budget in seconds or events, and every pair's burn rates."""
    from tasks.slo.read import judge, status_row

    loaded, store = _open(config, db)
    slo = next((s for s in loaded.slos if s.name == name), None)
    if slo is None:
        known = ", ".join(s.name for s in loaded.slos) or "none"
        raise _fail(f"no SLO named {name!r}; known: {known}")
    row = status_row(slo, judge(store, slo, time.time()))
    typer.echo(f"{slo.name}: {slo.description}" if slo.description else slo.name)
    typer.echo(f"  source        {row['source']}")
    typer.echo(f"  objective     {_percent(row['target'])} over {row['window_days']:g} days")
    typer.echo(f"  SLI           {_percent(row['sli'])}")
    typer.echo(
        f"  error budget  {_percent(row['budget_remaining'], 1)} left "
        f"({row['bad']:.0f} of {row['allowed_bad']:.0f} bad {row['unit']} spent)"
    )
    for alert in slo.alerts:
        long_rate, short_rate = row["burn_rates"][alert.name]
        state = "FIRING" if alert.name in row["burning"] else "ok"
        typer.echo(
            f"  {alert.name:12}  {long_rate:7.2f}x over {format_duration(alert.long)}, "
            f"{short_rate:7.2f}x over {format_duration(alert.short)}  "
            f"(alert at {alert.factor:g}x, {alert.severity}): {state}"
        )
