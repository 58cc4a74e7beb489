"""`vigil rules`: dismiss a false positive, unit-test rules, backtest a rule on stored history."""

import getpass
import time
from datetime import UTC, datetime

import typer

from models.settings import get_settings
from tasks.core.durations import parse_duration

rules_app = typer.Typer(
    help="Work on alert rules: dismiss false positives, test rules, backtest them on history.",
    no_args_is_help=True,
)

DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")


def _db(url: str | None):  # type: ignore[no-untyped-def]
    from models.db import make_engine

    return make_engine(url or get_settings().database_url)


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _seconds(text: str, option: str) -> float:
    try:
        return parse_duration(text).total_seconds()
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


@rules_app.command("dismiss")
def dismiss(
    alert: str = typer.Argument(..., help="Alert id or fingerprint (see `vigil alerts list`)."),
    duration: str = typer.Option(
        "1d", "--for", help="Keep the rule quiet on that series this long."
    ),
    comment: str = typer.Option("", "--comment", "-m", help="Why it is a false positive."),
    by: str | None = typer.Option(None, "--by", help="Who dismisses it (default: your login)."),
    db: str | None = DbOption,
) -> None:
    """Dismiss an alert as a false positive.

    Its rule stays quiet on that series (every tier) for `--for`; a firing alert resolves at
    the next sweep. Anomaly and forecast dismissals are recorded in the series' next model
    version (params.false_positives) when it is retrained.
    """
    from tasks.alerting.dismissals import dismiss as store_dismissal

    seconds = _seconds(duration, "--for")
    now = time.time()
    with _db(db).begin() as conn:
        done = store_dismissal(
            conn, alert, by=by or getpass.getuser(), comment=comment, until=now + seconds, now=now
        )
    if done is None:
        typer.secho(f"no alert {alert!r}; see `vigil alerts list --state all`", err=True, fg="red")
        raise typer.Exit(code=1)
    labels = ", ".join(f"{k}={v}" for k, v in sorted(done.labels.items()))
    typer.echo(
        f"dismissed {done.rule} {{{labels}}} as a false positive until {_when(done.until)} UTC "
        f"(by {done.by})"
    )
