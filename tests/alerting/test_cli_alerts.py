"""`vigil alerts` and `vigil silence` on a real SQLite file; writes act as the local admin
(tests/alerting/test_cli_identity.py covers tokens and refusals)."""

import pytest
from typer.testing import CliRunner

from tasks.alerting import store as repo
from tests.alerting.helpers import ADMIN, T0, write
from vigil.cli import app

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("owned_state_dir")


def test_alerts_can_be_listed_and_acknowledged(make_alert_engine, sqlite_url):
    engine = make_alert_engine("rules:\n  - {name: Hot, series: temp, value: 80}\n")
    write(engine, T0, [("temp", {"target": "rack-1"}, 91.0)])
    listed = runner.invoke(app, ["alerts", "list", "--db", sqlite_url])
    assert listed.exit_code == 0, listed.output
    assert "firing   Hot since 2026-03-01 12:00:00" in listed.output
    assert "target=rack-1" in listed.output
    alert_id = listed.output.split()[0]
    acked = runner.invoke(
        app, ["alerts", "ack", alert_id, "--as-admin", "-m", "on it", "--db", sqlite_url]
    )
    assert acked.exit_code == 0, acked.output
    assert f"as {ADMIN}" in acked.stdout
    assert f"ack by {ADMIN}" in runner.invoke(app, ["alerts", "list", "--db", sqlite_url]).output
    missing = runner.invoke(
        app, ["alerts", "ack", "nope", "-m", "on it", "--as-admin", "--db", sqlite_url]
    )
    assert missing.exit_code == 1 and "no alert 'nope'" in missing.output


def test_silences_can_be_added_listed_and_expired(sqlite_url):
    added = runner.invoke(
        app,
        [
            "silence",
            "add",
            '{target="db-1"}',
            "--for",
            "1h",
            "--as-admin",
            "-m",
            "maint",
            "--db",
            sqlite_url,
        ],
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith('silence 1 {target="db-1"} until')
    listed = runner.invoke(app, ["silence", "list", "--db", sqlite_url])
    assert f'by {ADMIN}: "maint"' in listed.output
    assert (
        runner.invoke(app, ["silence", "expire", "1", "--as-admin", "--db", sqlite_url]).exit_code
        == 0
    )
    assert runner.invoke(app, ["silence", "list", "--db", sqlite_url]).output == "no silences\n"
    assert (
        runner.invoke(app, ["silence", "expire", "1", "--as-admin", "--db", sqlite_url]).exit_code
        == 1
    )
    bad = runner.invoke(app, ["silence", "add", "{target=db}", "--db", sqlite_url])
    assert bad.exit_code == 2 and "bad selector" in bad.output


def test_an_acknowledgement_can_expire_and_be_given_back(make_alert_engine, sqlite_url):
    engine = make_alert_engine("rules:\n  - {name: Hot, series: temp, value: 80}\n")
    write(engine, T0, [("temp", {"target": "rack-1"}, 91.0)])
    db = ["--db", sqlite_url]
    acked = runner.invoke(
        app, ["alerts", "ack", "1", "--as-admin", "-m", "on it", "--expires", "2h", *db]
    )
    assert acked.exit_code == 0, acked.output
    assert f"as {ADMIN} until " in acked.stdout
    with engine.db.connect() as conn:
        row = repo.find_alert(conn, "1")
    assert row is not None and row.ack_expires_at is not None and row.ack_at is not None
    assert row.ack_expires_at - row.ack_at == 7200
    bad = runner.invoke(app, ["alerts", "ack", "1", "--expires", "soon", *db])
    assert bad.exit_code == 2 and "--expires" in bad.output
    given_back = runner.invoke(app, ["alerts", "unack", "1", "--as-admin", *db])
    assert given_back.exit_code == 0 and "unacknowledged 1 Hot" in given_back.output
    assert "ack by" not in runner.invoke(app, ["alerts", "list", *db]).output
    shown = runner.invoke(app, ["alerts", "show", "1", *db]).output
    assert (
        "acknowledged    on it (until " in shown
        and f"unacknowledged  given back [{ADMIN}]" in shown
    )
    assert runner.invoke(app, ["alerts", "unack", "42", "--as-admin", *db]).exit_code == 1
