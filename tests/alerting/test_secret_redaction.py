"""A channel URL's credentials never reach a config error, an outbox row or the log."""

import logging

from sqlalchemy import select
from typer.testing import CliRunner

from models.db import make_engine
from tasks.notify.channels import ChannelSpec
from tasks.notify.outbox import OUTBOX, Message, Outbox, enqueue
from tests.alerting.helpers import T0
from tests.ports import free_port
from vigil.cli import app

PASSWORD = "hunter2-Zq9"
runner = CliRunner()


def test_validate_refuses_a_url_apprise_cannot_parse_without_showing_its_password(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(
        "channels:\n"
        "  - name: ok\n    url: 'json://127.0.0.1:9/alerts'\n"
        f"  - name: broken\n    url: 'foo://admin:{PASSWORD}@mx.example.com/x?token=t0k3n-77'\n"
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"{path}:5: channels[1].url: foo://***@mx.example.com/***?token=*** is not a URL "
        "apprise can use"
    ), result.stderr
    assert PASSWORD not in result.output and "t0k3n-77" not in result.output


def test_validate_still_accepts_urls_completed_by_secrets_at_delivery(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(
        "channels:\n"
        "  - {name: mail, url: 'mailtos://ops:${SMTP_PASSWORD}@mail.example.com?to=a@b.c'}\n"
        "  - {name: hook, url: 'json://${HOOK_HOST}/alerts?token=${secret:hook-token}'}\n"
        "  - {name: whole, url: '${PAGER_URL}'}\n"
        "  - {name: typo, url: 'jsno://${HOOK_HOST}/alerts'}\n"
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:5: channels[3].url: jsno://***/***: apprise has no service 'jsno'"
    ]


def _deliver_one(sqlite_url: str, url: str, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    """Queue one message for channel ``c`` at ``url``, deliver it, return its stored row."""
    db = make_engine(sqlite_url)
    with db.begin() as conn:
        enqueue(conn, [Message("c", "firing", "title", "body")], T0)
    Outbox(db, {"c": url}, **kwargs).deliver_due(T0)
    with db.connect() as conn:
        (row,) = conn.execute(select(OUTBOX)).mappings().all()
    db.dispose()
    return dict(row)


def test_an_unparseable_url_fails_for_good_without_its_password_in_row_or_log(sqlite_url, caplog):
    url = f"foo://admin:{PASSWORD}@mx.example.com?apikey=k3y-55"  # a config older than the check
    with caplog.at_level(logging.DEBUG):
        row = _deliver_one(sqlite_url, url)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["last_error"] == (
        "foo://***@mx.example.com?apikey=*** is not an apprise URL apprise can use"
    )
    for text in (row["last_error"], caplog.text):
        assert PASSWORD not in text and "k3y-55" not in text
    assert "notification 1 to c not delivered: foo://***@mx.example.com" in caplog.text


def test_a_failed_delivery_stores_its_reason_without_credentials(sqlite_url, caplog):
    url = f"json://admin:{PASSWORD}@127.0.0.1:{free_port()}/hook?token=t0k3n-88"  # nobody listens
    with caplog.at_level(logging.DEBUG):
        row = _deliver_one(sqlite_url, url)
    assert row["status"] == "pending" and row["attempts"] == 1  # transient: retried later
    assert "Connection error" in row["last_error"]
    for text in (row["last_error"], caplog.text):
        assert PASSWORD not in text and "t0k3n-88" not in text


def test_an_unexpected_error_quoting_the_url_is_stored_scrubbed_and_retried(sqlite_url, caplog):
    url = f"json://admin:{PASSWORD}@hooks.example.com/T0KEN9abc/x"

    def failing_sender(spec: ChannelSpec, title: str, body: str, notify_type: str) -> None:
        # stands in for a library that raises with the URL in its message (nothing offline does)
        url = spec.url
        raise RuntimeError(f"cannot post to {url}: password {PASSWORD} refused for T0KEN9abc")

    with caplog.at_level(logging.DEBUG):
        row = _deliver_one(sqlite_url, url, sender=failing_sender)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"] == (
        "cannot post to json://***@hooks.example.com/***: password *** refused for ***"
    )
    assert PASSWORD not in caplog.text and "T0KEN9abc" not in caplog.text
