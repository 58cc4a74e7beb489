"""`vigil rules`: dismiss a false positive, unit-test rules, backtest a rule on stored history."""

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from models.config.dashboard import Role
from models.errors import ConfigError, OperatorInputError
from models.settings import get_settings
from models.vocabulary.durations import parse_duration
from vigil.identity import AsAdminOption, TokenFileOption, acting_as
from vigil.identity import ConfigOption as IdentityConfigOption

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
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = IdentityConfigOption,
    db: str | None = DbOption,
) -> None:
    """Dismiss an alert as a false positive (needs an operator token or --as-admin).

    Its rule stays quiet on that series (every tier) for --for; a firing
    alert resolves at the next sweep. Dismissals of anomaly and forecast
    alerts are recorded in the series' next model version when it is
    retrained (params.false_positives).
    """
    from tasks.alerting.dismissal_store import dismiss as store_dismissal
    from tasks.core.alerting import operator_input

    lasting = timedelta(seconds=_seconds(duration, "--for"))
    now = datetime.now(UTC)
    try:
        asked = operator_input.dismissal(comment, lasting=lasting, now=now)
    except OperatorInputError as exc:
        typer.secho(str(exc), err=True, fg="red")
        raise typer.Exit(code=2) from None
    # the API's dismiss needs an operator too (tasks/api/alerts.py)
    who = acting_as(Role.OPERATOR, as_admin=as_admin, token_file=token_file, config=config, db=db)
    with _db(db).begin() as conn:
        done = store_dismissal(
            conn,
            alert,
            by=who.actor,
            comment=asked.comment,
            until=asked.until.timestamp(),
            now=now.timestamp(),
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
    """Run unit tests of rules: input series through the real engine.

    A test file names its rules (rule_files: vigil.yaml files, or rules:),
    an evaluation_interval (the sweep cadence, default 15s) and tests:,
    each with interval, input_series (series: 'cpu{host="a"}', values:
    "50 60 90x5 _ 70") and alert_rule_test (eval_time, alertname, and
    exp_alerts with exp_labels and optional exp_annotations).
    Exit code 0: all pass; 1: a test case failed; 2: a file is invalid.
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


@rules_app.command("backtest")
def backtest_rule(
    rule: str = typer.Argument(..., help="The rule's name (in the config, or in --file)."),
    since: str = typer.Option("7d", "--since", help="How far back to replay, e.g. 1d, 7d."),
    step: str = typer.Option("15s", "--step", help="Sweep cadence of the replay (alert-sweep's)."),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="YAML with `rules:` to try; they replace same-named rules."
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Config file (default: $VIGIL_CONFIG_PATH or ./vigil.yaml)."
    ),
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Replay stored history through a rule; count what it would have caused.

    The samples and check results the rule reads since --since go through
    the real engine in a scratch store, swept every --step. It prints the
    alerts that would have fired, the notifications grouping and routing
    would have planned (by kind and channel), and the recoveries launched
    after the safety gate (rate limit, cooldown; each run taken to succeed
    at once). Nothing is sent, launched or written to the store.
    """
    from tasks.alerting.backtest import backtest
    from tasks.alerting.replay import as_json as counts_json
    from tasks.alerting.replay import describe

    loaded = _config_with(config, file)
    if rule not in {r.name for r in loaded.rules}:
        known = ", ".join(sorted(r.name for r in loaded.rules)) or "none"
        typer.secho(f"no rule {rule!r}; known: {known}", err=True, fg="red")
        raise typer.Exit(code=2)
    end = time.time()
    start = end - _seconds(since, "--since")
    step_s = _seconds(step, "--step")
    if step_s <= 0:
        raise typer.BadParameter("must be longer than 0s", param_hint="--step")

    def progress(fraction: float, at: float) -> None:
        typer.echo(f"  replayed to {_when(at)} UTC ({fraction:.0%})", err=True)

    from models.store import MetricStore

    store_db = _db(db)
    with tempfile.TemporaryDirectory(prefix="vigil-backtest-") as scratch:
        report = backtest(
            loaded,
            rule,
            MetricStore(store_db),
            start=start,
            end=end,
            scratch=Path(scratch) / "replay.db",
            step_s=step_s,
            progress=progress,
        )
    store_db.dispose()
    if as_json:
        typer.echo(counts_json(report.counts))
        return
    typer.echo(
        f"backtest of {rule} from {_when(start)} to {_when(end)} UTC: {report.samples} samples, "
        f"{report.check_results} check results, swept every {step}"
    )
    typer.echo(describe(report.counts))


def _config_with(config: Path | None, file: Path | None):  # type: ignore[no-untyped-def]
    """The config, with the rules of ``file`` replacing (or joining) its rules."""
    from models.config import load_config
    from models.config.alerting import alerting_problem

    try:
        loaded = load_config(config or get_settings().config_path)
        if file is None:
            return loaded
        extra = load_config(file)
    except ConfigError as error:
        typer.secho(str(error), err=True, fg="red")
        raise typer.Exit(code=2) from None
    names = {r.name for r in extra.rules}
    rules = [r for r in loaded.rules if r.name not in names] + extra.rules
    merged = loaded.model_copy(update={"rules": rules})
    problem = alerting_problem(merged)
    if problem:
        typer.secho(f"{file}: {problem[1]}", err=True, fg="red")
        raise typer.Exit(code=2)
    return merged
