"""`vigil forecast SERIES` and `vigil models list`."""

from datetime import UTC, datetime
from pathlib import Path

import typer

from models.config import load_config
from models.config.analytics import AnalyticsConfig
from models.errors import ConfigError
from models.settings import get_settings
from models.store import MetricStore

models_app = typer.Typer(help="Forecasting model versions.", no_args_is_help=True)
DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")


def _analytics_config(path: Path | None) -> AnalyticsConfig:
    path = path or get_settings().config_path
    if not path.exists():
        return AnalyticsConfig()
    try:
        return load_config(path).analytics
    except ConfigError as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None


def forecast_command(
    series: str = typer.Argument(..., help="Selector of exactly one series."),
    threshold: float | None = typer.Option(None, help="Also estimate when it crosses this value."),
    db: str | None = DbOption,
    config: Path | None = typer.Option(None, "--config", "-c", help="vigil.yaml to read."),
) -> None:
    """Forecast a series with its current model (or a fresh backtest choice) and print it."""
    from tasks.analytics.jobs import history, horizon_rows
    from tasks.analytics.store import current_version, engine_for, series_ref
    from tasks.core.forecast.models import MODELS
    from tasks.core.forecast.selection import WithFallback, select_model
    from tasks.core.forecast.threshold import time_to_threshold

    settings = _analytics_config(config)
    engine = engine_for(db or get_settings().database_url)
    found = MetricStore(engine).find_series(series)
    if len(found) != 1:
        names = ", ".join(series_ref(s) for s in found[:5]) or "none"
        typer.secho(f"{series!r} must match exactly one series; matched: {names}", err=True)
        raise typer.Exit(code=1)
    info, store = found[0], MetricStore(engine)
    newest = store.latest(series_ref(info))
    newest = newest[newest["series_id"] == info.id]
    now = newest["ts"].iloc[0].to_pydatetime() if len(newest) else datetime.now(UTC)
    frame = history(store, info, settings, now)  # the window ending at the newest sample
    if len(frame) < 3:
        typer.secho(f"{series_ref(info)} has {len(frame)} samples; need 3 or more", err=True)
        raise typer.Exit(code=1)
    horizon = horizon_rows(frame, settings)
    version = current_version(engine, info.id)
    if version is not None:
        model = WithFallback(MODELS[version.model](period=version.period))
        source = f"model version {version.version} ({version.model})"
    else:
        chosen = select_model(frame, list(settings.models), horizon=horizon, n_origins=2)
        model, source = chosen.make(), f"backtest choice {chosen.model} (no stored version)"
    forecast = model.fit(frame).predict(horizon)
    typer.echo(f"{series_ref(info)}: {source}, {horizon} steps")
    every = max(len(forecast) // 12, 1)
    for row in forecast.iloc[::every].itertuples():
        typer.echo(
            f"  {row.ts:%Y-%m-%d %H:%M}  {row.yhat:12.4g}  [{row.lower:.4g}, {row.upper:.4g}]"
        )
    if threshold is not None:
        est = time_to_threshold(forecast, threshold, now=frame["ts"].iloc[-1].to_pydatetime())
        when = f"at {est.crossing_at:%Y-%m-%d %H:%M}" if est.crossing_at else "not within horizon"
        typer.echo(f"  crosses {threshold:g}: {when} (probability {est.probability:.0%})")


@models_app.command("list")
def list_models(db: str | None = DbOption) -> None:
    """List model versions, newest first, with their backtest MASE and status."""
    from tasks.analytics.store import engine_for, list_versions

    versions = list_versions(engine_for(db or get_settings().database_url))
    if not versions:
        typer.echo("no model versions yet; the retrain flow creates them")
        return
    typer.echo(
        f"{'series':>6} {'ver':>4} {'model':16} {'status':9} {'MASE':>7} {'naive':>7} trained"
    )
    for v in versions:
        typer.echo(
            f"{v.series_id:>6} {v.version:>4} {v.model or '-':16} {v.status:9} "
            f"{v.backtest_mase:7.3f} {v.baseline_mase:7.3f} {v.created_at:%Y-%m-%d %H:%M} "
            f"{v.error[:60]}"
        )
