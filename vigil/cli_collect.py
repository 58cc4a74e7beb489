"""`vigil collect …`: collect metrics, serve the push endpoint, roll up and trim the store."""

from datetime import UTC, datetime
from pathlib import Path

import typer

from models.config import load_config
from models.errors import ConfigError, VigilError
from models.settings import get_settings, serving

collect_app = typer.Typer(help="Collect metrics and keep the store in shape.", no_args_is_help=True)

ConfigOption = typer.Option(None, "--config", "-c", help="Config file (default: ./vigil.yaml).")
DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")


def _fail(error: VigilError) -> typer.Exit:
    typer.secho(str(error), err=True, fg=typer.colors.RED)
    return typer.Exit(code=2 if isinstance(error, ConfigError) else 1)


@collect_app.command("once")
def once(config: Path | None = ConfigOption, db: str | None = DbOption) -> None:
    """Run every collector once, store the batch, and print what was stored."""
    import httpx

    from models.db import make_engine
    from models.store import MetricStore
    from tasks.collect.tick import Collection
    from tasks.store.batch import store_batch

    settings = get_settings()
    try:
        loaded = load_config(config or settings.config_path)
    except ConfigError as error:
        raise _fail(error) from None
    store = MetricStore(make_engine(db or settings.database_url))
    now = datetime.now(UTC)
    with httpx.Client() as client:
        samples = Collection.from_config(loaded, client).collect_due(now.timestamp())
    result = store_batch(store, samples, source="collect", now=now)
    names = sorted({s.name for s in samples})
    typer.echo(f"stored {result.accepted} samples of {len(names)} metrics")
    for rejection in result.rejected:
        typer.echo(f"  refused {rejection.sample.name}: {rejection.reason}")


@collect_app.command("run")
def run(
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
    window: float | None = typer.Option(None, help="Seconds to run (default: run_window)."),
) -> None:
    """Run the collect flow once (a window of many ticks); exit 1 when samples were lost."""
    from deployments.ephemeral_server import tied_to_this_process
    from flows.collect import collect

    settings = get_settings()
    with (
        serving(config or settings.config_path, db or settings.database_url),
        tied_to_this_process(_say_err),
    ):
        try:
            typer.echo(collect(window))
        except VigilError as error:
            raise _fail(error) from None


@collect_app.command("maintain")
def maintain(config: Path | None = ConfigOption, db: str | None = DbOption) -> None:
    """Run the maintenance flow: rollups, then retention."""
    from deployments.ephemeral_server import tied_to_this_process
    from flows.maintenance import maintenance

    settings = get_settings()
    with (
        serving(config or settings.config_path, db or settings.database_url),
        tied_to_this_process(_say_err),
    ):
        typer.echo(maintenance())


@collect_app.command("push-server")
def push_server(config: Path | None = ConfigOption, db: str | None = DbOption) -> None:
    """Serve the push endpoint and Vigil's /metrics (collectors.push in vigil.yaml)."""
    import uvicorn

    from models.db import make_engine
    from models.store import MetricStore
    from tasks.alerting.subscribe import alerting_on_batches
    from tasks.collect.push_api import create_push_app, resolve_tokens
    from tasks.core.access.exposure import bind_warning
    from tasks.store.readiness import vigil_probes

    settings = get_settings()
    path = config or settings.config_path
    try:
        loaded = load_config(path)
        push = loaded.collectors.push
        tokens = resolve_tokens(push)
    except ConfigError as error:
        message = str(error)
        located = message if message.startswith(str(path)) else f"{path}: {message}"
        raise _fail(ConfigError(located)) from None
    if not tokens:
        typer.secho("collectors.push.tokens is empty: no sender could push", err=True)
        raise typer.Exit(code=2)
    url = db or settings.database_url
    store = MetricStore(make_engine(url))
    app = create_push_app(
        store,
        tokens,
        max_body_bytes=push.max_body_bytes,
        max_ahead=push.max_ahead,
        probes=vigil_probes(store.engine, *_prefect_api()),
    )
    warning = bind_warning(
        "the push server",
        push.host,
        push.port,
        has_tls=push.tls_cert is not None,
        has_auth=True,  # tokens are required (checked above)
        carries="push tokens and samples",
    )
    if warning:
        typer.secho(warning, err=True, fg=typer.colors.YELLOW)
    with alerting_on_batches(loaded, url):
        uvicorn.run(
            app,
            host=push.host,
            port=push.port,
            log_level="info",
            ssl_certfile=push.tls_cert,  # None: plain HTTP
            ssl_keyfile=push.tls_key,
        )


def _prefect_api() -> tuple[str | None, str | None]:
    """The Prefect API this process talks to, and its basic-auth credential."""
    import prefect.settings as ps

    return ps.PREFECT_API_URL.value(), ps.PREFECT_API_AUTH_STRING.value()


def _say_err(line: str) -> None:
    typer.echo(line, err=True)
