"""`vigil api …`: serve Vigil's HTTP API; make, list and revoke its bearer tokens."""

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from models.config import load_config
from models.config.dashboard import Role
from models.errors import ConfigError
from models.settings import get_settings

api_app = typer.Typer(help="Vigil's HTTP API: serve it, manage its tokens.", no_args_is_help=True)
token_app = typer.Typer(
    help="API tokens: each acts for a user of dashboard.users, with at most their role.",
    no_args_is_help=True,
)
api_app.add_typer(token_app, name="token")

ConfigOption = typer.Option(None, "--config", "-c", help="Config file (default: ./vigil.yaml).")
DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")


def _engine(db: str | None):  # type: ignore[no-untyped-def]
    from models.db import make_engine

    return make_engine(db or get_settings().database_url)


def _config(path: Path | None):  # type: ignore[no-untyped-def]
    path = path or get_settings().config_path
    try:
        return load_config(path)
    except ConfigError as error:
        message = str(error)
        located = message if message.startswith(str(path)) else f"{path}: {message}"
        typer.secho(located, err=True, fg="red")
        raise typer.Exit(code=2) from None


@api_app.command("serve")
def serve(config: Path | None = ConfigOption, db: str | None = DbOption) -> None:
    """Serve the API, the push endpoint and /metrics on collectors.push's host and port."""
    serve_api(config, db)


def serve_api(config: Path | None, db: str | None) -> None:
    """Build the API app from vigil.yaml and the store, and serve it until stopped."""
    with api_server(config, db, is_process_wide=True) as server:
        server.run()
    if not server.started:  # it could not bind its port: uvicorn said why
        raise typer.Exit(code=3)


@contextmanager
def api_server(config: Path | None, db: str | None, *, is_process_wide: bool) -> Iterator[Any]:
    """Yield the API as an unstarted uvicorn server, its alert engine running meanwhile.

    ``is_process_wide``: its engine judges every batch this process writes (the API has the
    process to itself); otherwise only those written in the thread that enters this block
    (the API serves in a thread of `vigil serve`, whose flow runs judge their own).
    """
    import uvicorn

    from models.db import make_engine
    from models.store import MetricStore
    from tasks.alerting.subscribe import alerting_on_batches
    from tasks.api.app import create_api_app
    from tasks.collect.push_api import resolve_tokens
    from tasks.core.access.exposure import bind_warning
    from tasks.recovery.trigger import launch_deployment
    from tasks.store.readiness import vigil_probes

    settings = get_settings()
    path = config or settings.config_path
    loaded = _config(path)
    push = loaded.collectors.push
    try:
        push_tokens = resolve_tokens(push)
    except ConfigError as error:
        typer.secho(f"{path}: {error}", err=True, fg="red")
        raise typer.Exit(code=2) from None
    if not push_tokens:
        typer.secho("collectors.push.tokens is empty: pushes are refused (401)", err=True)
    url = db or settings.database_url
    retention = loaded.collectors.retention
    store = MetricStore(make_engine(url), raw_keep=retention.raw, minute_keep=retention.rollup_1m)
    with alerting_on_batches(
        loaded, url, is_always=True, is_process_wide=is_process_wide
    ) as engine:
        app = create_api_app(
            store,
            loaded,
            push_tokens=push_tokens,
            launch=launch_deployment,
            answer=_answer_approval,
            probes=vigil_probes(store.engine, *_prefect_api()),
            config_path=Path(path),
            alert_engine=engine,
        )
        warning = bind_warning(
            "the API and push server",
            push.host,
            push.port,
            has_tls=push.tls_cert is not None,
            has_auth=True,  # /api/v1 needs API tokens, pushes their sender tokens
            carries="API tokens, push tokens and samples",
        )
        if warning:
            typer.secho(warning, err=True, fg=typer.colors.YELLOW)
        scheme = "https" if push.tls_cert else "http"
        typer.echo(f"API docs: {scheme}://{push.host}:{push.port}/docs", err=True)
        yield uvicorn.Server(
            uvicorn.Config(
                app,
                host=push.host,
                port=push.port,
                log_level="info",
                ssl_certfile=push.tls_cert,  # None: plain HTTP
                ssl_keyfile=push.tls_key,
            )
        )


def _answer_approval(flow_run_id: str, **answer: object) -> None:
    """Resume a paused run through Prefect (imported when first asked: it is heavy)."""
    from tasks.recovery.approval import answer_approval

    answer_approval(flow_run_id, **answer)  # type: ignore[arg-type]


def _prefect_api() -> tuple[str | None, str | None]:
    """The Prefect API this process talks to, and its basic-auth credential."""
    import prefect.settings as ps

    return ps.PREFECT_API_URL.value(), ps.PREFECT_API_AUTH_STRING.value()


@token_app.command("create")
def create(
    name: str = typer.Argument(..., help="The token's name, recorded with every write."),
    user: str = typer.Option(..., "--user", "-u", help="A user of dashboard.users."),
    role: Role = typer.Option(Role.VIEWER, "--role", "-r", help="At most the user's role."),
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Make a token and print it once (only its SHA-256 digest is stored)."""
    from tasks.api.token_store import create_token

    users = _config(config).dashboard.users
    try:
        token = create_token(
            _engine(db),
            users,
            name=name,
            user=user,
            role=role,
            by=getpass.getuser(),
            now=datetime.now(UTC),
        )
    except ValueError as exc:
        typer.secho(str(exc), err=True, fg="red")
        raise typer.Exit(code=2) from None
    typer.echo(f"token {name} for {user} as {role} (shown once; keep it secret):", err=True)
    typer.echo(token)


@token_app.command("list")
def list_tokens(db: str | None = DbOption) -> None:
    """Print every token: name, user, role, who made it and when, revoked or not."""
    from tasks.api.token_store import list_tokens as stored

    found = stored(_engine(db))
    if not found:
        typer.echo("no tokens; make one with `vigil api token create NAME --user U --role R`")
    for t in found:
        revoked = f" REVOKED {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else ""
        typer.echo(
            f"{t.name} {t.user} {t.role} by {t.created_by} {t.created_at:%Y-%m-%d %H:%M}{revoked}"
        )


@token_app.command("revoke")
def revoke(name: str = typer.Argument(...), db: str | None = DbOption) -> None:
    """Revoke a token now: requests presenting it get 401."""
    from tasks.api.token_store import revoke_token

    if not revoke_token(_engine(db), name, now=datetime.now(UTC)):
        typer.secho(f"no live token {name!r}; see `vigil api token list`", err=True, fg="red")
        raise typer.Exit(code=1)
    typer.echo(f"revoked {name}")
