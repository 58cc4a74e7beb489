"""`vigil rules`: dismiss a false positive, unit-test rules, backtest a rule on stored history."""

import getpass
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from models.settings import get_settings
from tasks.core.durations import parse_duration
from vigil.errors import ConfigError

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


@rules_app.command("test")
def test_rules(
    files: list[Path] = typer.Argument(..., help="Rule test files (YAML, like promtool's)."),
) -> None:
    """Run unit tests of rules: input series through the real engine, expected alerts.

    A test file names its rules (`rule_files: [vigil.yaml]` or inline `rules:`), an
    `evaluation_interval` (the sweep cadence, default 15s) and `tests:`, each with
    `interval`, `input_series` (`series: 'cpu{host="a"}'`, `values: "50 60 90x5 _ 70"`)
    and `alert_rule_test` (`eval_time`, `alertname`, `exp_alerts` with `exp_labels` and
    optional `exp_annotations`). Exit code 0: all pass; 1: a test failed; 2: a file is invalid.
    """
    from tasks.alerting.rule_tests import load_tests, run_tests

    failed = 0
    for path in files:
        try:
            loaded = load_tests(path)
        except ConfigError as error:
            typer.secho(str(error), err=True, fg="red")
            raise typer.Exit(code=2) from None
        with tempfile.TemporaryDirectory(prefix="vigil-rules-test-") as scratch:
            results = run_tests(loaded, Path(scratch))
        for result in results:
            if result.failures:
                failed += 1
                typer.secho(f"FAIL {path}: {result.name}", fg="red")
                for failure in result.failures:
                    typer.echo(f"  {failure}")
            else:
                typer.secho(f"PASS {path}: {result.name}", fg="green")
    if failed:
        typer.secho(f"{failed} test case(s) failed", err=True, fg="red")
        raise typer.Exit(code=1)
