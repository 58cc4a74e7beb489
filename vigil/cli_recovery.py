"""`vigil recovery ...`: run procedures, answer approvals, inspect runs, re-enable."""

from pathlib import Path

import typer

from models.config import load_config
from models.config.dashboard import Role
from models.config.recovery import find_procedure
from models.errors import ConfigError, RecoveryError
from models.recovery import RunState
from models.settings import get_settings, serving
from models.vocabulary.access import ApprovalPath
from vigil.identity import AsAdminOption, TokenFileOption, acting_as

recovery_app = typer.Typer(help="Run and control recovery procedures.", no_args_is_help=True)

ConfigOption = typer.Option(None, "--config", "-c", help="Config file (default: ./vigil.yaml).")
DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")
ReasonOption = typer.Option(..., "--reason", "-r", help="Why; recorded in the audit log.")
ApproverOption = typer.Option(
    None, "--approver", help="With --code: the operator the dashboard showed the code to."
)
CodeOption = typer.Option(
    None,
    "--code",
    help="Instead of an API token: your one-time code for this run from the dashboard's "
    "Recoveries page ('My code for the cli'); it proves you are --approver.",
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
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Run a procedure on a target now (as the Prefect flow `recover`), as an API token's
    user or the local admin (recorded in the audit); a dry run needs no identity."""
    from deployments.ephemeral_server import tied_to_this_process
    from flows.recover import recover

    settings = get_settings()
    labels = _parse_labels(label)
    requested_by = None
    if not dry_run:
        who = acting_as(
            Role.OPERATOR, as_admin=as_admin, token_file=token_file, config=config, db=db
        )
        requested_by = who.actor
    try:
        with (
            serving(
                config or settings.config_path,
                db or settings.database_url,
                requested_by=requested_by,
            ),
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
    run: str,
    *,
    approved: bool,
    reason: str,
    proof: tuple[str | None, str | None],
    identity: tuple[bool, Path | None, Path | None],
    db: str | None,
) -> None:
    """Answer a paused run as the token's user, or as ``--approver`` with a dashboard code."""
    from tasks.recovery.approval import answer_approval

    flow_run_id = _flow_run_id(run, db)
    approver, code = _proven(flow_run_id, proof, identity, db)
    try:
        answer_approval(flow_run_id, approved=approved, reason=reason, approver=approver, code=code)
    except (RuntimeError, ValueError) as exc:
        typer.secho(f"cannot answer run {run}: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None
    verb = "approval" if approved else "rejection"
    typer.echo(
        f"{verb} by {approver} sent to {flow_run_id}: {reason}\n"
        "The run checks it; `vigil recovery list` shows whether it counted."
    )


def _flow_run_id(run: str, db: str | None) -> str:
    """The Prefect flow run of ``run`` (a flow run id, or a Vigil run number)."""
    if not run.isdigit():
        return run
    from tasks.recovery.steps import engine_for
    from tasks.recovery.store import run_by_id

    found = run_by_id(engine_for(db or get_settings().database_url), int(run))
    if found is None or found.flow_run_id is None:
        typer.secho(f"no recovery run {run} with a flow run", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1)
    if found.state != RunState.AWAITING_APPROVAL:
        typer.secho(f"run {run} is {found.state}, not awaiting approval", err=True, fg="red")
        raise typer.Exit(code=1)
    return found.flow_run_id


def _proven(
    flow_run_id: str,
    proof: tuple[str | None, str | None],
    identity: tuple[bool, Path | None, Path | None],
    db: str | None,
) -> tuple[str, str]:
    """Return (approver, one-time code): the dashboard's code, or one issued to the token's
    user for path cli (as the API does), which the run redeems."""
    from datetime import UTC, datetime

    from tasks.recovery.approval_codes import issue_code
    from tasks.recovery.steps import engine_for

    approver, code = proof
    as_admin, token_file, config = identity
    if code is not None:
        if approver is None:
            typer.secho("--code needs --approver: who the dashboard showed it to", err=True)
            raise typer.Exit(code=2)
        typer.echo(f"acting as {approver} (one-time code from the dashboard)", err=True)
        return approver, code
    if approver is not None:
        typer.secho("--approver goes with --code; a token answers as its own user", err=True)
        raise typer.Exit(code=2)
    if as_admin:
        typer.secho(_NO_ADMIN_APPROVALS, err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1)
    who = acting_as(Role.OPERATOR, as_admin=False, token_file=token_file, config=config, db=db)
    engine = engine_for(db or get_settings().database_url)
    now = datetime.now(UTC)
    return who.user, issue_code(engine, who.user, flow_run_id, ApprovalPath.CLI, now=now)


_NO_ADMIN_APPROVALS = (
    "refused: --as-admin cannot approve or reject: a run counts answers only from operators "
    "in dashboard.users; use your API token (VIGIL_API_TOKEN or --token-file) or a code "
    "from the dashboard (--approver YOU --code CODE)"
)


@recovery_app.command("approve")
def approve(
    run: str = typer.Argument(..., help="Prefect flow run id, or Vigil run number."),
    reason: str = ReasonOption,
    approver: str | None = ApproverOption,
    code: str | None = CodeOption,
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Approve a paused recovery run, as your API token's user (same as the API)."""
    identity = (as_admin, token_file, config)
    _answer(run, approved=True, reason=reason, proof=(approver, code), identity=identity, db=db)


@recovery_app.command("reject")
def reject(
    run: str = typer.Argument(..., help="Prefect flow run id, or Vigil run number."),
    reason: str = ReasonOption,
    approver: str | None = ApproverOption,
    code: str | None = CodeOption,
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Reject a paused recovery run; it ends without changing anything."""
    identity = (as_admin, token_file, config)
    _answer(run, approved=False, reason=reason, proof=(approver, code), identity=identity, db=db)


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
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Re-enable a procedure on a target after it disabled itself (recorded as who did it)."""
    from tasks.recovery.steps import engine_for
    from tasks.recovery.store import enable

    settings = get_settings()
    try:
        proc = find_procedure(load_config(config or settings.config_path).procedures, procedure)
    except (ConfigError, KeyError) as exc:
        typer.secho(str(exc).strip("'\""), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    who = acting_as(Role.OPERATOR, as_admin=as_admin, token_file=token_file, config=config, db=db)
    enable(engine_for(db or settings.database_url), proc, target, actor=who.actor)
    typer.echo(f"enabled {procedure} on {target}")
