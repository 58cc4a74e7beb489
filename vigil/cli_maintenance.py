"""`vigil maintenance list`: the maintenance windows and when each is next active."""

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from models.config import load_config
from models.errors import ConfigError
from models.settings import get_settings

maintenance_app = typer.Typer(
    help="Maintenance windows: matching alerts stay quiet and are not recovered automatically.",
    no_args_is_help=True,
)

ConfigOption = typer.Option(None, "--config", "-c", help="Config file (default: ./vigil.yaml).")
AtOption = typer.Option(
    None,
    "--at",
    help="Judge at this ISO time with zone instead of now, e.g. 2026-03-29T03:30+02:00.",
)


@maintenance_app.command("list")
def list_windows(config: Path | None = ConfigOption, at: datetime | None = AtOption) -> None:
    """Print each window: name, matchers, schedule, and ACTIVE until / next / over."""
    from models.vocabulary.durations import format_duration
    from tasks.alerting.plan import maintenance_spec

    try:
        loaded = load_config(config or get_settings().config_path)
    except ConfigError as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    if at is not None and at.tzinfo is None:
        raise typer.BadParameter("--at needs a zone, e.g. 2026-03-29T03:30+02:00 or …Z")
    now = at.timestamp() if at is not None else time.time()
    if not loaded.maintenance_windows:
        typer.echo("no maintenance windows")
    for window in loaded.maintenance_windows:
        span = maintenance_spec(window).next_span(now)
        zone = ZoneInfo(window.timezone)

        def shown(ts: float, zone: ZoneInfo = zone) -> str:
            return datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M %Z")

        if span is None:
            when = "over"
        elif span[0] <= now:
            when = f"ACTIVE until {shown(span[1])}"
        else:
            when = f"next {shown(span[0])} until {shown(span[1])}"
        schedule = "one-off"
        if window.schedule and window.duration:
            schedule = f'"{window.schedule}" for {format_duration(window.duration)}'

        typer.echo(f"{window.name} {window.match} {schedule} ({window.timezone}): {when}")
