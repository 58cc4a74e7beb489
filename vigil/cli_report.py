"""`vigil report`: the figures of a span as HTML, PDF or CSV."""

from datetime import UTC, datetime
from pathlib import Path

import typer

from models.config import load_config
from models.errors import ConfigError
from models.settings import get_settings
from models.vocabulary.durations import parse_duration


def report_command(
    since: str = typer.Option("7d", "--since", help="How far back: 24h, 7d, 30d …"),
    fmt: str = typer.Option("html", "--format", "-f", help="html, pdf or csv."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="File (default: vigil-report-DATE.FMT)."
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Config (default: ./vigil.yaml)."
    ),
    db: str | None = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL)."),
) -> None:
    """Write a report: SLOs and budgets, availability and outages, incidents, MTTA/MTTR,
    recovery success, noisiest rules, forecast accuracy and the top series by p95/p99."""
    from models.db import make_engine
    from tasks.core.reports.render import FORMATS, render
    from tasks.slo.report import build_report

    if fmt not in FORMATS:
        raise _fail(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    try:
        span = parse_duration(since)
    except ValueError as error:
        raise _fail(f"--since {since!r}: {error}") from None
    try:
        loaded = load_config(config or get_settings().config_path)
    except ConfigError as error:
        raise _fail(str(error)) from None
    until = datetime.now(UTC)
    engine = make_engine(db or get_settings().database_url)
    typer.echo(f"gathering the figures of the last {since} …", err=True)
    try:
        report = build_report(loaded, engine, until - span, until)
    finally:
        engine.dispose()
    path = out or Path(f"vigil-report-{until:%Y%m%d}.{fmt}")
    path.write_bytes(render(report, fmt))
    typer.echo(f"wrote {path} ({fmt}, {path.stat().st_size} bytes)")


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)
