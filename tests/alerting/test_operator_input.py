"""Acks, silences and dismissals are checked once: the CLI and the dashboard refuse alike."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app import actions
from app.auth import User
from models.alerting import Silence
from models.config.dashboard import Role
from models.dismissal import AlertDismissal
from models.errors import MatcherError
from models.vocabulary.durations import parse_duration
from tasks.alerting import store as repo
from tests.alerting.helpers import T0, write
from vigil.cli import app

runner = CliRunner()
OPERATOR = User("ana", Role.OPERATOR)
HOT = "rules:\n  - {name: Hot, series: temp, value: 80}\n"
BAD_SILENCES = [  # matchers, --for, the message both doors give
    ('{target="db-1"}', "0s", "the silence must last longer than 0s"),
    ("up", "1h", 'give at least one label matcher, like {target="db-1"}'),
    ("{}", "1h", "it selects nothing"),
    ("{target=db}", "1h", "bad selector"),
]
BAD_ACKS = [  # comment, --expires, the message both doors give
    ("", None, "write a comment: what is being done about it"),
    ("   ", "1h", "write a comment: what is being done about it"),
    ("on it", "0s", "the acknowledgement must last longer than 0s"),
]


def count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__)).scalar_one()


def test_a_silence_of_zero_seconds_is_refused_by_the_cli_and_nothing_is_stored(
    make_alert_engine, sqlite_url
):
    engine = make_alert_engine(HOT)
    args = ["silence", "add", "up", "--for", "0s", "--db", sqlite_url]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert refused.output.strip() == 'give at least one label matcher, like {target="db-1"}'
    refused = runner.invoke(app, ["silence", "add", '{alertname="up"}', *args[3:]])
    assert refused.exit_code == 2
    assert "the silence must last longer than 0s" in refused.output
    assert count(engine.db, Silence) == 0
    assert runner.invoke(app, ["silence", "list", "--db", sqlite_url]).output == "no silences\n"


@pytest.mark.parametrize(("matchers", "lasting", "message"), BAD_SILENCES)
def test_the_dashboard_and_the_cli_refuse_the_same_silences_alike(
    make_alert_engine, sqlite_url, matchers, lasting, message
):
    engine = make_alert_engine(HOT)
    with pytest.raises((ValueError, MatcherError)) as dashboard:
        actions.create_silence(
            engine.db, OPERATOR, matchers, parse_duration(lasting), "", now=datetime.now(UTC)
        )
    cli = runner.invoke(app, ["silence", "add", matchers, "--for", lasting, "--db", sqlite_url])
    assert cli.exit_code == 2
    assert message in str(dashboard.value)
    assert cli.output.strip() == str(dashboard.value)
    assert count(engine.db, Silence) == 0


@pytest.mark.parametrize(("comment", "expires", "message"), BAD_ACKS)
def test_the_dashboard_and_the_cli_refuse_the_same_acknowledgements_alike(
    make_alert_engine, sqlite_url, comment, expires, message
):
    engine = make_alert_engine(HOT)
    write(engine, T0, [("temp", {"target": "rack-1"}, 91.0)])
    lasting = None if expires is None else parse_duration(expires)
    with pytest.raises(ValueError, match=message):
        actions.acknowledge_alert(
            engine.db, OPERATOR, 1, comment, now=datetime.now(UTC), expires=lasting
        )
    args = ["alerts", "ack", "1", "-m", comment, "--db", sqlite_url]
    cli = runner.invoke(app, args + (["--expires", expires] if expires else []))
    assert cli.exit_code == 2
    assert cli.output.strip() == message
    with engine.db.connect() as conn:
        row = repo.find_alert(conn, "1")
    assert row is not None and row.ack_by is None


def test_a_dismissal_of_zero_seconds_is_refused_and_nothing_is_stored(
    make_alert_engine, sqlite_url
):
    engine = make_alert_engine(HOT)
    write(engine, T0, [("temp", {"target": "rack-1"}, 91.0)])
    refused = runner.invoke(app, ["rules", "dismiss", "1", "--for", "0s", "--db", sqlite_url])
    assert refused.exit_code == 2
    assert refused.output.strip() == "the dismissal must last longer than 0s"
    assert count(engine.db, AlertDismissal) == 0
