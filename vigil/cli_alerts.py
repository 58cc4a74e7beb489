"""`vigil alerts` (list, show, ack, unack) and `vigil silence` (add, list, expire)."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, TypeVar

import typer

from models.config.dashboard import Role
from models.errors import MatcherError
from models.settings import get_settings
from models.vocabulary.durations import parse_duration
from vigil.identity import AsAdminOption, ConfigOption, TokenFileOption, acting_as

alerts_app = typer.Typer(help="List and acknowledge alerts.", no_args_is_help=True)
silence_app = typer.Typer(help="Silence alerts by label matchers.", no_args_is_help=True)

DbOption = typer.Option(None, "--db", help="Store URL (default: $VIGIL_DATABASE_URL).")
T = TypeVar("T")
_OPERATOR = Role.OPERATOR  # as the API's writes to alerts and silences (tasks/api/alerts.py)


def _db(url: str | None):  # type: ignore[no-untyped-def]
    from models.db import make_engine

    return make_engine(url or get_settings().database_url)


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


@alerts_app.command("list")
def list_alerts(
    state: str = typer.Option("active", help="active (pending+firing), firing, pending, all."),
    db: str | None = DbOption,
) -> None:
    """Print alerts: id, state, rule, since, acknowledgement, labels."""
    from tasks.alerting import store as repo
    from tasks.core.alerting.lifecycle import AlertState

    states = {
        "active": [AlertState.PENDING, AlertState.FIRING],
        "all": list(AlertState),
    }.get(state)
    if states is None:
        try:
            states = [AlertState(state)]
        except ValueError:
            raise typer.BadParameter(f"{state!r}: use active, firing, pending, all") from None
    with _db(db).connect() as conn:
        rows = repo.load_in_states(conn, states)
    if not rows:
        typer.echo("no alerts")
    for row in rows:
        since = row.lifecycle.fired_at or row.lifecycle.active_since
        ack = f" ack by {row.ack_by}" if row.ack_by else ""
        labels = ", ".join(f"{k}={v}" for k, v in sorted(row.labels.items()))
        typer.echo(
            f"{row.id:>5} {row.fingerprint} {row.lifecycle.state:<8} {row.rule} "
            f"since {_when(since)}{ack} {{{labels}}}"
        )


@alerts_app.command("show")
def show(
    alert: str = typer.Argument(..., help="Alert id or fingerprint."),
    db: str | None = DbOption,
) -> None:
    """Print an alert and its timeline: state changes, notifications, acks, recoveries."""
    from tasks.alerting.timeline import read_timeline

    with _db(db).connect() as conn:
        found = read_timeline(conn, alert)
    if found is None:
        _no_alert(alert)
    row, events = found
    labels = ", ".join(f"{k}={v}" for k, v in sorted(row.labels.items()))
    typer.echo(f"alert {row.id} {row.fingerprint} {row.rule} {row.lifecycle.state} {{{labels}}}")
    if row.ack_by:
        until = f" until {_when(row.ack_expires_at)}" if row.ack_expires_at else ""
        typer.echo(f"acknowledged by {row.ack_by}{until}: {row.ack_comment or ''}")
    for event in events:
        typer.echo(f"{_when(event.at)}  {event.kind:<15} {event.summary} [{event.actor}]")


@alerts_app.command("ack")
def ack(
    alert: str = typer.Argument(..., help="Alert id or fingerprint."),
    comment: str = typer.Option("", "--comment", "-m", help="Why, or what you are doing."),
    expires: str | None = typer.Option(
        None, "--expires", help="Hold it this long, e.g. 2h (default: until it resolves)."
    ),
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Acknowledge an alert: it stops repeating and escalating (until --expires)."""
    from tasks.alerting import store as repo
    from tasks.core.alerting import operator_input

    now = datetime.now(UTC)
    try:
        lasting = None if expires is None else parse_duration(expires)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expires") from None
    asked = _checked(lambda: operator_input.acknowledgement(comment, lasting=lasting, now=now))
    until = None if asked.expires_at is None else asked.expires_at.timestamp()
    who = acting_as(_OPERATOR, as_admin=as_admin, token_file=token_file, config=config, db=db)
    with _db(db).begin() as conn:
        row = repo.acknowledge(
            conn, alert, who.actor, asked.comment, now.timestamp(), expires_at=until
        )
    if row is None:
        _no_alert(alert)
    until_text = "" if until is None else f" until {_when(until)} UTC"
    typer.echo(f"acknowledged {row.id} {row.rule} ({row.fingerprint}) as {row.ack_by}{until_text}")


@alerts_app.command("unack")
def unack(
    alert: str = typer.Argument(..., help="Alert id or fingerprint."),
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Give an acknowledged alert back: repeats and escalation resume from now."""
    from tasks.alerting import store as repo

    who = acting_as(_OPERATOR, as_admin=as_admin, token_file=token_file, config=config, db=db)
    with _db(db).begin() as conn:
        row = repo.unacknowledge(conn, alert, who.actor, time.time())
    if row is None:
        _no_alert(alert)
    typer.echo(f"unacknowledged {row.id} {row.rule} ({row.fingerprint})")


def _checked(ask: Callable[[], T]) -> T:
    """Return ``ask()``, or refuse the operator's input with its message (exit code 2)."""
    try:
        return ask()
    except (ValueError, MatcherError) as exc:
        typer.secho(str(exc), err=True, fg="red")
        raise typer.Exit(code=2) from None


def _no_alert(alert: str) -> NoReturn:
    typer.secho(f"no alert {alert!r}; see `vigil alerts list`", err=True, fg="red")
    raise typer.Exit(code=1)


@silence_app.command("add")
def add_silence(
    matchers: str = typer.Argument(..., help="Label matchers, e.g. '{target=\"db-1\"}'."),
    duration: str = typer.Option("2h", "--for", help="How long, e.g. 30m, 2h, 1d."),
    comment: str = typer.Option("", "--comment", "-m", help="Why."),
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Silence matching alerts from now for a while; it expires by itself."""
    from tasks.alerting import store as repo
    from tasks.core.alerting import operator_input

    now = datetime.now(UTC)
    asked = _checked(
        lambda: operator_input.silence(
            matchers, lasting=parse_duration(duration), comment=comment, now=now
        )
    )
    start, end = asked.starts_at.timestamp(), asked.ends_at.timestamp()
    who = acting_as(_OPERATOR, as_admin=as_admin, token_file=token_file, config=config, db=db)
    with _db(db).begin() as conn:
        silence_id = repo.add_silence(conn, asked.matchers, start, end, who.actor, asked.comment)
    typer.echo(f"silence {silence_id} {matchers} until {_when(end)} UTC")


@silence_app.command("list")
def list_silences(
    all_: bool = typer.Option(False, "--all", help="Include expired silences."),
    db: str | None = DbOption,
) -> None:
    """Print silences: id, matchers, until, author, comment, and who ended one early."""
    from tasks.alerting import store as repo

    with _db(db).connect() as conn:
        found = repo.list_silences(conn, time.time(), include_expired=all_)
    if not found:
        typer.echo("no silences")
    for s in found:
        until = _when(repo.to_ts(s["ends_at"]))
        ended = f" (expired by {s['expired_by']})" if s["expired_by"] else ""
        typer.echo(
            f"{s['id']:>4} {s['matchers']} until {until}{ended} by {s['created_by']}: "
            f"{json.dumps(s['comment'])}"
        )


@silence_app.command("expire")
def expire(
    silence_id: int = typer.Argument(...),
    as_admin: bool = AsAdminOption,
    token_file: Path | None = TokenFileOption,
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """End a silence now."""
    from tasks.alerting import store as repo

    who = acting_as(_OPERATOR, as_admin=as_admin, token_file=token_file, config=config, db=db)
    with _db(db).begin() as conn:
        is_done = repo.expire_silence(conn, silence_id, time.time(), by=who.actor)
    if not is_done:
        typer.secho(f"no active silence {silence_id}", err=True, fg="red")
        raise typer.Exit(code=1)
    typer.echo(f"silence {silence_id} expired")
