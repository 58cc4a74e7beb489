"""`vigil demo`: watch a small web service break, alert, wait for approval, heal and resolve."""

from pathlib import Path

import typer

from models.errors import VigilError

demo_app = typer.Typer(
    help="A two-minute tour: a demo service breaks, Vigil alerts, you approve its restart.",
    invoke_without_command=True,
)
DirOption = typer.Option(
    Path("vigil-demo"), "--dir", help="Where the demo keeps everything (removed by stop)."
)


@demo_app.callback()
def demo(
    ctx: typer.Context,
    directory: Path = DirOption,
    break_after: float = typer.Option(45.0, help="Seconds until the service breaks by itself."),
    follow: bool = typer.Option(True, help="Stay and say what to look at next, step by step."),
    prefect_port: int = typer.Option(4210, help="Port of the demo's Prefect server and UI."),
    dashboard_port: int = typer.Option(8511, help="Port of the demo's dashboard."),
    push_port: int = typer.Option(9101, help="Port of the demo's push endpoint."),
    web_port: int = typer.Option(8088, help="Port of the demo web service."),
    db: str = typer.Option(
        "sqlite:///vigil.db",
        "--db",
        help="Store URL; the default is a SQLite file in the demo directory.",
    ),
) -> None:
    """Start the demo: its own Vigil (own store and ports) and a web service under watch."""
    if ctx.invoked_subcommand is not None:
        return
    from deployments.demo import DemoPorts, follow_demo, start_demo

    ports = DemoPorts(prefect_port, push_port, dashboard_port, web_port)
    try:
        start_demo(directory, ports, break_after, typer.echo, database_url=db)
    except VigilError as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None
    typer.echo(
        "Vigil is up for the demo. Look at:\n"
        f"  dashboard   {ports.dashboard_url}   (Overview: checks, alerts, what runs next)\n"
        f"  Prefect UI  {ports.prefect_ui}   (runs; the recovery will wait here)\n"
        f"  service     {ports.web_url}\n"
        f"The service breaks in {break_after:g}s (or now: `vigil demo break --dir {directory}`).\n"
        f"`vigil demo stop --dir {directory}` ends the demo and removes {directory}."
    )
    if not follow:
        return
    try:
        if follow_demo(directory, typer.echo, timeout_seconds=break_after + 900):
            typer.echo(f"That was the whole loop. `vigil demo stop --dir {directory}` cleans up.")
    except KeyboardInterrupt:
        typer.echo(f"\nThe demo keeps running; `vigil demo stop --dir {directory}` ends it.")


@demo_app.command("break")
def break_now(directory: Path = DirOption) -> None:
    """Break the demo web service now."""
    from deployments.demo import break_demo

    try:
        typer.echo(f"broke {break_demo(directory)}; its check goes DOWN within seconds")
    except VigilError as error:
        typer.secho(str(error), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None


@demo_app.command("stop")
def stop(directory: Path = DirOption) -> None:
    """Stop the demo's Vigil and web service and remove its directory."""
    from deployments.demo import stop_demo

    stopped = stop_demo(directory)
    typer.echo(
        f"stopped {', '.join(stopped) or 'nothing (it was not running)'}; removed {directory}"
    )
