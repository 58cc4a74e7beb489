"""The `vigil` command line."""

import os
import sys
from pathlib import Path

import typer

from models.config import VigilConfig, load_config
from models.config.starter import StarterPorts, write_starter
from models.errors import ConfigError, VigilError
from models.settings import get_settings, serving
from vigil import __version__
from vigil.cli_alerts import alerts_app, silence_app
from vigil.cli_analytics import forecast_command, models_app
from vigil.cli_api import api_app
from vigil.cli_checks import checks_app
from vigil.cli_collect import collect_app
from vigil.cli_dashboard import dashboard_app
from vigil.cli_demo import demo_app
from vigil.cli_maintenance import maintenance_app
from vigil.cli_recovery import recovery_app
from vigil.cli_report import report_command
from vigil.cli_rules import rules_app
from vigil.cli_slo import slo_app

app = typer.Typer(
    help="Vigil watches services and hosts, forecasts trouble, alerts once, heals under control.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the metric store's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(dashboard_app, name="dashboard")
app.add_typer(collect_app, name="collect")
app.add_typer(checks_app, name="checks")
app.add_typer(alerts_app, name="alerts")
app.add_typer(silence_app, name="silence")
app.add_typer(recovery_app, name="recovery")
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(models_app, name="models")
app.add_typer(rules_app, name="rules")
app.add_typer(api_app, name="api")
app.add_typer(slo_app, name="slo")
app.add_typer(demo_app, name="demo")
app.command("forecast")(forecast_command)
app.command("report")(report_command)

ConfigOption = typer.Option(
    None, "--config", "-c", help="Config file (default: $VIGIL_CONFIG_PATH or ./vigil.yaml)."
)
DbOption = typer.Option(
    None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL or sqlite:///vigil.db)."
)


@app.callback()
def main() -> None:
    """Reach the Prefect server `vigil up` runs here, with its credential (see README)."""
    from deployments.prefect_auth import use_local_server
    from deployments.services import prefect_api_url
    from deployments.supervisor import read_state

    settings = get_settings()
    is_up = read_state(settings.state_dir) is not None
    try:
        use_local_server(settings.state_dir, prefect_api_url(settings), is_up=is_up)
    except VigilError as error:  # say so, but let `vigil down` and friends still work
        typer.secho(f"not using the local Prefect credential: {error}", err=True, fg="yellow")


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
    push_port: int = typer.Option(9091, help="Port of the push endpoint (and /metrics)."),
    dashboard_port: int = typer.Option(8501, help="Port of the dashboard."),
    db: str | None = DbOption,
) -> None:
    """Write a starter vigil.yaml that watches this host and Vigil itself."""
    if path.exists() and not force:
        typer.secho(f"{path} exists; keeping it (use --force to overwrite)", err=True)
        raise typer.Exit(code=1)
    settings = get_settings()
    ports = StarterPorts(prefect=settings.prefect_port, push=push_port, dashboard=dashboard_port)
    write_starter(path, ports=ports, database_url=db or settings.database_url)
    typer.echo(f"wrote {path}; check it with `vigil validate {path}`")


@app.command()
def validate(path: Path | None = typer.Argument(None, help="Config file to check.")) -> None:
    """Check a config file; print every problem as file:line: field: what was expected."""
    path = path or get_settings().config_path
    typer.echo(f"{path}: ok ({_summary(_load(path))})")


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
def up(
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
    check: bool = typer.Option(False, "--check", help="Prepare and print the plan; start nothing."),
    rotate_prefect_credential: bool = typer.Option(
        False,
        "--rotate-prefect-credential",
        help="Replace the local Prefect server's basic-auth credential before starting "
        "(only while Vigil is stopped; old copies of it stop working).",
    ),
    isolated: bool = typer.Option(
        False,
        "--isolated",
        envvar="VIGIL_UP_ISOLATED",
        help="Run the Prefect server, the deployment runner and the API in processes of their "
        "own (about 1.7x the memory; a crash then restarts only one of them). Default: one "
        "process for the three, and the dashboard.",
    ),
) -> None:
    """Start Vigil: config, migrated store, Prefect server and services; Ctrl-C stops all."""
    from deployments.prefect_auth import server_environment
    from deployments.services import exposure_warnings, prefect_api_url, vigil_services
    from deployments.supervise import write_plan
    from deployments.supervisor import read_state

    settings = get_settings()
    path = config or settings.config_path
    url = db or settings.database_url
    os.environ.update(VIGIL_CONFIG_PATH=str(path.resolve()), VIGIL_DATABASE_URL=url)
    loaded = _prepare(path, url)
    for warning in exposure_warnings(settings, loaded):
        typer.secho(warning, err=True, fg=typer.colors.YELLOW)
    if (state := read_state(settings.state_dir)) is not None and (
        rotate_prefect_credential or not check
    ):
        typer.secho(f"Vigil already runs (pid {state['pid']}); `vigil down` stops it", err=True)
        raise typer.Exit(code=1)
    if rotate_prefect_credential:
        from deployments.prefect_auth import rotate_credential

        typer.echo(f"new Prefect credential in {rotate_credential(settings.state_dir).resolve()}")
    if check:
        return

    os.environ.update(server_environment(settings.state_dir))  # inherited, not in up.json
    plan = write_plan(
        settings.state_dir,
        prefect_api_url(settings),
        vigil_services(settings, loaded, is_isolated=isolated),
    )
    # The supervisor runs for months: it goes on in a fresh interpreter without what the
    # preparation loaded (deployments/supervise.py), with this pid, terminal and environment.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "deployments.supervise", str(plan)])


@app.command()
def serve(
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
    with_prefect_server: bool = typer.Option(
        False,
        "--with-prefect-server",
        help="Run the local Prefect server (API, UI, services) in this process first, on "
        "VIGIL_BIND_HOST:VIGIL_PREFECT_PORT (`vigil up`'s compact layout).",
    ),
    with_api: bool = typer.Option(
        False,
        "--with-api",
        help="Serve the API, push endpoint and /metrics in this process too (if collectors.push "
        "is enabled).",
    ),
) -> None:
    """Serve every Vigil deployment on its schedule (needs a Prefect server; `vigil up` runs it).

    Collection, checks and the alert sweep start at once, then follow their schedules.
    """
    from contextlib import ExitStack
    from datetime import UTC, datetime

    from deployments.catalog import vigil_deployments
    from deployments.kickoff import serve_now, store_first_host_sample

    settings = get_settings()
    path, url = (config or settings.config_path).resolve(), db or settings.database_url
    loaded = _load(path)
    _note_load(path, loaded, url, "vigil serve")
    with ExitStack() as hosted:
        if with_prefect_server:
            from deployments.threaded_server import hosted_prefect_server

            hosted.enter_context(hosted_prefect_server(settings, typer.echo))
        if with_api and loaded.collectors.push.enabled:
            hosted.enter_context(_hosted_api(path, url, loaded))
        try:
            stored = store_first_host_sample(loaded, url, datetime.now(UTC))
            typer.echo(f"stored {stored} host samples at once")
        except Exception as error:  # a head start only: the collect flow reports store failures
            typer.secho(f"first host sample not stored: {error}", err=True, fg="yellow")
        deployments = vigil_deployments(loaded)
        typer.echo("serving " + ", ".join(d.name for d in deployments))
        with serving(path, url):  # each run reads this process's settings
            serve_now(deployments, typer.echo)


def _hosted_api(path: Path, url: str, loaded: VigilConfig):  # type: ignore[no-untyped-def]
    """Serve the API in a thread; its alert engine hears only the batches of its requests."""
    from deployments.services import api_health_url
    from deployments.threaded_server import served_in_thread
    from vigil.cli_api import api_server

    return served_in_thread(
        "the API server",
        lambda: api_server(path, url, is_process_wide=False),
        api_health_url(loaded),
    )


@app.command()
def deploy(
    pool: str = typer.Option("vigil", "--pool", help="Process work pool (created if missing)."),
    config: Path | None = ConfigOption,
    write: Path | None = typer.Option(
        None, "--write", help="Only write the prefect.yaml of these deployments to this file."
    ),
) -> None:
    """Deploy every Vigil deployment to a process work pool; workers run them.

    Start workers where the flows should run, with the config and the store in their
    environment: `VIGIL_CONFIG_PATH=… VIGIL_DATABASE_URL=… prefect worker start --pool NAME`.
    """
    from deployments.catalog import vigil_deployments
    from deployments.workpool import deploy_to_pool, prefect_yaml

    deployments = vigil_deployments(_load((config or get_settings().config_path).resolve()))
    if write is not None:
        write.write_text(prefect_yaml(deployments, pool))
        typer.echo(f"wrote {write}: {len(deployments)} deployments on pool {pool}")
        return
    for name in deploy_to_pool(deployments, pool):
        typer.echo(f"deployed {name} to work pool {pool}")


@app.command()
def down() -> None:
    """Stop the Vigil that `vigil up` started from this directory."""
    from deployments.supervisor import stop_recorded

    if not stop_recorded(get_settings().state_dir):
        typer.echo("Vigil is not running here.")
        return
    typer.echo("Vigil stopped.")


@app.command()
def status() -> None:
    """Say what `vigil up` runs here and whether each part is healthy."""
    from deployments.supervisor import read_state, resident_mb, restart_note, service_health

    state = read_state(get_settings().state_dir)
    if state is None:
        typer.echo("Vigil is not running here; `vigil up` starts it.")
        raise typer.Exit(code=3)
    total = resident_mb(state["pid"])
    memory = f", {total:.0f} MB resident in all" if total is not None else ""
    typer.echo(
        f"Vigil {'runs' if state['is_ready'] else 'is starting'} (pid {state['pid']}{memory})"
    )
    _say_where_the_credential_is()
    healths = {entry["name"]: service_health(entry) for entry in state["services"]}
    for entry in state["services"]:
        used = resident_mb(entry["pid"]) if healths[entry["name"]] != "stopped" else None
        size = f"{used:.0f} MB" if used is not None else "-"
        line = f"  {entry['name']:<16} {healths[entry['name']]:<10} {size:>7}  {entry['url']}"
        typer.echo(f"{line}   ({note})" if (note := restart_note(entry)) else line)
    answer = _readiness()
    typer.echo(f"Readiness: {answer['status']}")
    for name, verdict in answer["checks"].items():  # type: ignore[attr-defined]
        typer.echo(f"  {name:<16} {verdict}")
    if not state["is_ready"] or any(health != "healthy" for health in healths.values()):
        raise typer.Exit(code=1)
    if answer["status"] != "ready":
        raise typer.Exit(code=1)


def _say_where_the_credential_is() -> None:
    from deployments.prefect_auth import credential_path

    path = credential_path(get_settings().state_dir).resolve()
    mode = f"mode {path.stat().st_mode & 0o777:04o}" if path.exists() else "missing"
    typer.echo(f"  Prefect API credential: {path} ({mode}; `vigil up --rotate-prefect-credential`)")


def _readiness() -> dict[str, object]:
    """What the push server's /readyz says, probed from here: store, Prefect API, outbox."""
    from deployments.prefect_auth import read_credential
    from deployments.services import prefect_api_url
    from models.db import make_engine
    from tasks.store.readiness import readiness, vigil_probes

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        probes = vigil_probes(
            engine, prefect_api_url(settings), read_credential(settings.state_dir)
        )
        return readiness(probes)
    finally:
        engine.dispose()


def _load(path: Path) -> VigilConfig:
    """Load and validate ``path``; exit with its file:line errors when it is wrong."""
    try:
        return load_config(path)
    except ConfigError as error:
        raise _fail(error) from None


def _prepare(path: Path, url: str) -> VigilConfig:
    """Write the starter config if missing, validate it, migrate the store, print the plan."""
    from models.migrate import current_revision, upgrade

    if not path.exists():
        ports = StarterPorts(prefect=get_settings().prefect_port)
        write_starter(path, ports=ports, database_url=url)
        typer.echo(f"wrote starter config {path}")
    loaded = _load(path)
    upgrade(url)
    _note_load(path, loaded, url, "vigil up")
    typer.echo(f"store {url} is at revision {current_revision(url)}")
    typer.echo(f"config {path}: {_summary(loaded)}")
    for target in loaded.targets:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(target.labels.items()))
        typer.echo(f"  watching {target.kind} {target.name} ({target.address or 'local'}) {labels}")
    host = loaded.collectors.host
    if host.enabled:
        typer.echo(f"  host metrics every {host.interval.total_seconds():g}s")
    return loaded


def _note_load(path: Path, loaded: VigilConfig, url: str, process: str) -> None:
    """Record this load of vigil.yaml in the configuration audit (hash, what changed)."""
    from datetime import UTC, datetime

    from models.db import make_engine
    from tasks.access.config_audit import note_config_load

    engine = make_engine(url)
    try:
        row = note_config_load(engine, path, loaded, process=process, now=datetime.now(UTC))
    finally:
        engine.dispose()
    if row is not None and row.diff:
        typer.echo(f"config changed since the last load: {row.diff}")


def _summary(config) -> str:  # type: ignore[no-untyped-def]
    parts = {
        "targets": config.targets,
        "checks": config.checks,
        "rules": config.rules,
        "channels": config.channels,
        "procedures": config.procedures,
    }
    return ", ".join(f"{len(items)} {name}" for name, items in parts.items())


if __name__ == "__main__":
    app()
