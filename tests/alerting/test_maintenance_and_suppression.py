"""Maintenance windows mute notifications; silences, maintenance and DOWN parents stop recovery."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models.config import load_config, parse_config
from models.errors import ConfigError
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun
from tasks.alerting import store as repo
from tasks.alerting.plan import build_plan
from tasks.core.checks.state import CheckReport, CheckStatus
from tasks.recovery.remediation import Remediator
from tasks.store.batch_hooks import BatchWritten, publish
from tests.alerting.helpers import T0, outbox, write

# T0 is 2026-03-01 12:00 UTC, 13:00 in Berlin (CET).
CONFIG = """
targets:
  - name: db
  - name: web
    depends_on: [db]
rules:
  - name: Slow
    series: latency_seconds
    value: 1
    procedure: restart
  - name: Down
    kind: check_state
channels:
  - name: hook
    url: {url}
procedures:
  - name: restart
    steps: [{{type: command, argv: [/bin/true]}}]
    limits: {{cooldown: 0s, max_runs: 100}}
maintenance_windows:
  - name: lunch-deploy
    match: '{{target="db"}}'
    schedule: "0 13 * * *"
    duration: 30m
    timezone: Europe/Berlin
  - name: upgrade
    match: '{{target=~"cache-.*"}}'
    start: 2026-03-01 12:50
    end: 2026-03-01 14:00
    timezone: Europe/Berlin
alerting:
  default: {{group_wait: 0s, group_by: ['...']}}
"""


@pytest.fixture
def reacting(make_alert_engine, sqlite_url, webhook):  # type: ignore[no-untyped-def]
    """An engine whose firing alerts request recovery; launches are recorded, not run."""
    text = CONFIG.format(url=webhook.url)
    launched: list[RecoveryRun] = []  # the launcher is the boundary to the served deployment
    config = parse_config(text)
    engine = make_alert_engine(text)
    remediator = Remediator(config, engine.db, build_plan(config), launch=launched.append)
    engine.on_firing = [remediator.on_firing]
    return engine, launched


def _skips(engine) -> list[str]:  # type: ignore[no-untyped-def]
    query = select(RecoveryAudit.detail).where(RecoveryAudit.event == AuditEvent.SKIPPED)
    with engine.db.connect() as conn:
        return list(conn.execute(query).scalars())  # type: ignore[call-overload]


def _slow(engine, at: float, *targets: str) -> None:  # type: ignore[no-untyped-def]
    write(engine, at, [("latency_seconds", {"target": t}, 5.0) for t in targets])


def test_a_recurring_window_in_its_time_zone_mutes_like_a_silence(reacting, webhook):
    engine, _ = reacting
    _slow(engine, T0 + 60, "db", "web", "cache-1")  # 13:01 Berlin: db and cache-1 in maintenance
    engine.sweep(T0 + 61)
    assert sorted(m["title"] for m in webhook.received) == ["[FIRING:1] Slow on web"]
    _slow(engine, T0 + 1800, "db")  # 13:30: the window is over, the alert still fires
    engine.sweep(T0 + 1801)
    assert sorted(m["title"] for m in webhook.received) == [
        "[FIRING:1] Slow on db",
        "[FIRING:1] Slow on web",
    ]
    assert [m["kind"] for m in outbox(engine)] == ["firing", "firing"]


def test_a_maintenance_window_stops_recovery_and_records_why(reacting):
    engine, launched = reacting
    _slow(engine, T0 + 60, "db")
    assert launched == []
    assert _skips(engine) == ["maintenance window lunch-deploy"]


def test_an_active_silence_stops_recovery_and_records_its_id(reacting):
    engine, launched = reacting
    with engine.db.begin() as conn:
        silence = repo.add_silence(conn, '{target="web"}', T0, T0 + 600, "ana", "deploy")
    _slow(engine, T0 + 60, "web")
    assert launched == []
    assert _skips(engine) == [f"silenced by #{silence}"]


def test_a_down_parent_stops_recovery_of_its_dependents(reacting):
    engine, launched = reacting
    at = datetime.fromtimestamp(T0 + 3600, UTC)  # outside the lunch window
    report = CheckReport("db-port", "db", CheckStatus.DOWN, True, at, "refused")
    publish(BatchWritten("checks", at, (), [report]), [engine.on_batch])
    _slow(engine, T0 + 3601, "web")
    assert launched == []
    assert _skips(engine) == ["parent db DOWN"]
    with engine.db.connect() as conn:
        audit = conn.execute(select(RecoveryAudit.event, RecoveryAudit.target)).all()  # type: ignore[call-overload]
    assert [(str(e), t) for e, t in audit] == [("triggered", "web"), ("skipped", "web")]


def test_without_a_reason_to_skip_the_recovery_is_launched(reacting):
    engine, launched = reacting
    _slow(engine, T0 + 3600, "db", "web")
    assert sorted(run.target for run in launched) == ["db", "web"]
    assert _skips(engine) == []


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("{name: w, match: '{a=\"b\"}', schedule: '0 2 * *', duration: 1h}", "not a cron"),
        ("{name: w, match: '{a=\"b\"}', schedule: '0 2 * * *'}", "needs `duration:`"),
        ("{name: w, match: '{a=\"b\"}', start: 2026-01-02, end: 2026-01-01}", "end must be after"),
        ("{name: w, match: '{}', start: 2026-01-01, end: 2026-01-02}", "selects nothing"),
        (
            "{name: w, match: '{a=\"b\"}', schedule: '@daily', duration: 1h, timezone: Mars/Base}",
            "unknown time zone 'Mars/Base'",
        ),
    ],
)
def test_bad_maintenance_windows_are_refused_with_a_reason(window, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(f"maintenance_windows:\n  - {window}\n")


def test_remediate_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(
        "rules:\n"
        "  - name: Slow\n"
        "    series: latency_seconds\n"
        "    value: 1\n"
        "    remediate:\n"
        "      attempts: 2\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(
        f"{path}:5: rules[0].remediate: rule 'Slow' has nothing to remediate with"
    )
    path.write_text(
        "rules:\n"
        "  - name: Slow\n"
        "    series: latency_seconds\n"
        "    value: 1\n"
        "    procedure: p\n"
        "    remediate: {verify_with: web-proc, on_fixed: loud}\n"
        "procedures:\n"
        "  - {name: p, steps: [{type: wait, duration: 1s}]}\n"
    )
    with pytest.raises(ConfigError, match=r":6: rules\[0\]\.remediate\.on_fixed: Input should be"):
        load_config(path)
    path.write_text(path.read_text().replace(", on_fixed: loud", ""))
    with pytest.raises(ConfigError, match=r"verify_with: unknown check 'web-proc'; known: none"):
        load_config(path)


def test_maintenance_list_shows_each_window_and_when_it_is_next_active(tmp_path):
    from typer.testing import CliRunner

    from vigil.cli import app

    path = tmp_path / "vigil.yaml"
    path.write_text(CONFIG.format(url="json://127.0.0.1:9/x"))
    args = ["maintenance", "list", "-c", str(path), "--at"]
    during = CliRunner().invoke(app, [*args, "2026-03-01T12:10:00Z"])
    assert during.exit_code == 0, during.output
    assert during.output.splitlines() == [
        'lunch-deploy {target="db"} "0 13 * * *" for 30m (Europe/Berlin): '
        "ACTIVE until 2026-03-01 13:30 CET",
        'upgrade {target=~"cache-.*"} one-off (Europe/Berlin): ACTIVE until 2026-03-01 14:00 CET',
    ]
    after_dst = CliRunner().invoke(app, [*args, "2026-03-29T12:00:00Z"]).output.splitlines()
    assert after_dst == [
        'lunch-deploy {target="db"} "0 13 * * *" for 30m (Europe/Berlin): '
        "next 2026-03-30 13:00 CEST until 2026-03-30 13:30 CEST",
        'upgrade {target=~"cache-.*"} one-off (Europe/Berlin): over',
    ]
