"""`vigil recovery ...`: run procedures, answer approvals, inspect runs, re-enable."""

from pathlib import Path

import typer

from models.config import load_config
from models.config.recovery import find_procedure
from models.errors import ConfigError, RecoveryError
from models.settings import get_settings, serving

recovery_app = typer.Typer(help="Run and control recovery procedures.", no_args_is_help=True)

ConfigOption = typer.Option(None, "--config", "-c", help="Config file (default: ./vigil.yaml).")
DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")
ReasonOption = typer.Option(..., "--reason", "-r", help="Why; recorded in the audit log.")
ApproverOption = typer.Option(
    None, "--approver", help="The operator who decides (default: your OS user name)."
)
CodeOption = typer.Option(
    ...,
    "--code",
    help="Your one-time code for this run from the dashboard's Recoveries page "
    "('My code for the cli'); it proves who you are.",
)


def _parse_labels(pairs: list[str]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--label")
        labels[name] = value
    return labels


@recovery_app.command("run")
def run(
    procedure: str = typer.Argument(..., help="Procedure name from vigil.yaml."),
    target: str = typer.Option(..., "--target", "-t", help="Target to recover."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Render every step; change nothing."),
    label: list[str] = typer.Option([], "--label", "-l", help="NAME=VALUE for {labels.NAME}."),
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Run a procedure on a target now (as the Prefect flow `recover`)."""
    from deployments.ephemeral_server import tied_to_this_process
    from flows.recover import recover

    settings = get_settings()
    labels = _parse_labels(label)
    try:
        with (
            serving(config or settings.config_path, db or settings.database_url),
            tied_to_this_process(lambda line: typer.echo(line, err=True)),
        ):
            outcome = recover(procedure, target, labels=labels, dry_run=dry_run, trigger="cli")
    except (ConfigError, RecoveryError) as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    if outcome.startswith("refused: "):
        typer.secho(outcome.removeprefix("refused: "), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2)
    typer.echo(outcome)
    if outcome.split(":")[0] in ("failed", "rejected"):
        raise typer.Exit(code=1)


def _answer(
    run: str, *, approved: bool, reason: str, approver: str | None, code: str, db: str | None
) -> None:
    import getpass

    from tasks.recovery.approval import answer_approval

    flow_run_id = run
    if run.isdigit():  # a Vigil run number: find its Prefect flow run
        from tasks.recovery.steps import engine_for
        from tasks.recovery.store import run_by_id

        found = run_by_id(engine_for(db or get_settings().database_url), int(run))
        if found is None or found.flow_run_id is None:
            typer.secho(f"no recovery run {run} with a flow run", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=1)
        flow_run_id = found.flow_run_id
    try:
        answer_approval(
            flow_run_id,
            approved=approved,
            reason=reason,
            approver=approver or getpass.getuser(),
            code=code,
        )
    except (RuntimeError, ValueError) as exc:
        typer.secho(f"cannot answer run {run}: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None
    verb = "approval" if approved else "rejection"
    typer.echo(
        f"{verb} sent to {flow_run_id}: {reason}\n"
        "The run checks your code; `vigil recovery list` shows whether it counted."
    )


@recovery_app.command("approve")
def approve(
    run: str = typer.Argument(..., help="Prefect flow run id, or Vigil run number."),
    reason: str = ReasonOption,
    approver: str | None = ApproverOption,
    code: str = CodeOption,
    db: str | None = DbOption,
) -> None:
    """Approve a paused recovery run (same as the form in the Prefect UI)."""
    _answer(run, approved=True, reason=reason, approver=approver, code=code, db=db)


@recovery_app.command("reject")
def reject(
    run: str = typer.Argument(..., help="Prefect flow run id, or Vigil run number."),
    reason: str = ReasonOption,
    approver: str | None = ApproverOption,
    code: str = CodeOption,
    db: str | None = DbOption,
) -> None:
    """Reject a paused recovery run; it ends without changing anything."""
    _answer(run, approved=False, reason=reason, approver=approver, code=code, db=db)


@recovery_app.command("list")
def list_runs(db: str | None = DbOption, limit: int = typer.Option(20, help="How many.")) -> None:
    """Show the newest recovery runs."""
    from tasks.recovery.steps import engine_for
    from tasks.recovery.store import recent_runs

    for r in recent_runs(engine_for(db or get_settings().database_url), limit):
        typer.echo(
            f"{r.id:>5} {r.requested_at:%Y-%m-%d %H:%M:%S} {r.procedure} on {r.target} "
            f"[{r.trigger}] {r.state} {r.message[:80]}"
        )


@recovery_app.command("enable")
def enable_procedure(
    procedure: str = typer.Argument(..., help="Procedure name."),
    target: str = typer.Option(..., "--target", "-t", help="Target it was disabled on."),
    by: str | None = typer.Option(None, "--by", help="Who re-enables (default: your user)."),
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Re-enable a procedure on a target after it disabled itself."""
    import getpass

    from tasks.recovery.steps import engine_for
    from tasks.recovery.store import enable

    settings = get_settings()
    try:
        proc = find_procedure(load_config(config or settings.config_path).procedures, procedure)
    except (ConfigError, KeyError) as exc:
        typer.secho(str(exc).strip("'\""), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    enable(engine_for(db or settings.database_url), proc, target, actor=by or getpass.getuser())
    typer.echo(f"enabled {procedure} on {target}")
