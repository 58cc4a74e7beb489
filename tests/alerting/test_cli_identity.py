"""CLI writes act as someone: an API token (environment or a 0600 file) or --as-admin.

Real SQLite file, real vigil.yaml, tokens made with `vigil api token create`; the last test
runs the installed `vigil` command as a subprocess.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from models.alerting import Silence
from models.dismissal import AlertDismissal
from models.settings import get_settings
from models.vocabulary.passwords import hash_password
from tasks.alerting import store as repo
from tasks.alerting.timeline import read_timeline
from tests.alerting.helpers import T0, write
from vigil.cli import app

runner = CliRunner()
_HASH = hash_password("not-used-here")
RULES = "rules:\n  - {name: Hot, series: temp, value: 80}\n"


def users_yaml(**roles: str) -> str:
    lines = "".join(
        f"    - {{name: {name}, role: {role}, password_hash: '{_HASH}'}}\n"
        for name, role in roles.items()
    )
    return f"dashboard:\n  users:\n{lines}{RULES}"


@pytest.fixture
def site(tmp_path: Path, sqlite_url: str, make_alert_engine, monkeypatch):  # type: ignore[no-untyped-def]
    """A firing alert, a vigil.yaml with an operator and a viewer, and no identity yet."""
    config = tmp_path / "vigil.yaml"
    config.write_text(users_yaml(ana="operator", vic="viewer"))
    engine = make_alert_engine(RULES)
    write(engine, T0, [("temp", {"target": "rack-1"}, 91.0)])
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.config/vigil/token of the machine
    monkeypatch.delenv("VIGIL_API_TOKEN", raising=False)
    monkeypatch.setenv("VIGIL_STATE_DIR", str(tmp_path / ".vigil"))
    monkeypatch.setenv("VIGIL_CONFIG_PATH", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def token(name: str, user: str, role: str) -> str:
    made = runner.invoke(app, ["api", "token", "create", name, "--user", user, "--role", role])
    assert made.exit_code == 0, made.output
    return made.stdout.strip().splitlines()[-1]


def ack(*extra: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["alerts", "ack", "1", "-m", "on it", *extra], env=env)


def ack_by(engine) -> str | None:  # type: ignore[no-untyped-def]
    with engine.db.connect() as conn:
        row = repo.find_alert(conn, "1")
    assert row is not None
    return row.ack_by


def silences(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(Silence.__table__)).scalar_one()


def test_without_an_identity_every_write_is_refused_and_nothing_is_written(site):
    for args in (
        ["alerts", "ack", "1", "-m", "on it"],
        ["alerts", "unack", "1"],
        ["silence", "add", '{target="rack-1"}', "--for", "1h"],
        ["silence", "expire", "1"],
        ["rules", "dismiss", "1", "--for", "1d"],
    ):
        refused = runner.invoke(app, args)
        assert refused.exit_code == 1, (args, refused.output)
        assert "needs to know who you are" in refused.stderr
        assert "VIGIL_API_TOKEN" in refused.stderr and "--as-admin" in refused.stderr
    assert ack_by(site) is None and silences(site) == 0
    with site.db.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(AlertDismissal.__table__)).scalar() == 0
        )


def test_an_operator_token_acts_and_the_timeline_names_its_user(site):
    ana = token("cli-ana", "ana", "operator")
    acked = ack(env={"VIGIL_API_TOKEN": ana})
    assert acked.exit_code == 0, acked.output
    assert "acting as ana (token cli-ana from $VIGIL_API_TOKEN)" in acked.stderr
    assert "as ana/cli-ana" in acked.stdout
    assert ack_by(site) == "ana/cli-ana"
    given_back = runner.invoke(app, ["alerts", "unack", "1"], env={"VIGIL_API_TOKEN": ana})
    assert given_back.exit_code == 0, given_back.output
    with site.db.connect() as conn:
        found = read_timeline(conn, "1")
    assert found is not None
    people = [(e.kind, e.actor) for e in found[1] if e.actor != "vigil"]
    assert ("acknowledged", "ana/cli-ana") in people
    assert ("unacknowledged", "ana/cli-ana") in people


def test_a_viewer_token_is_refused_with_the_reason(site):
    vic = token("cli-vic", "vic", "viewer")
    refused = ack(env={"VIGIL_API_TOKEN": vic})
    assert refused.exit_code == 1
    assert "token cli-vic (vic) is a viewer; this needs operator or above" in refused.stderr
    assert ack_by(site) is None


def test_a_revoked_token_and_a_token_whose_user_left_the_config_are_refused(site, tmp_path):
    ana = token("cli-ana", "ana", "operator")
    assert runner.invoke(app, ["api", "token", "revoke", "cli-ana"]).exit_code == 0
    refused = ack(env={"VIGIL_API_TOKEN": ana})
    assert refused.exit_code == 1 and "unknown or revoked" in refused.stderr
    bob = token("cli-bob", "ana", "operator")
    (tmp_path / "vigil.yaml").write_text(users_yaml(vic="viewer"))  # ana is gone
    refused = ack(env={"VIGIL_API_TOKEN": bob})
    assert refused.exit_code == 1 and "no longer in dashboard.users" in refused.stderr
    assert ack_by(site) is None


def test_a_token_file_readable_by_others_is_refused_naming_the_file_and_mode(site, tmp_path):
    path = tmp_path / "token"
    path.write_text(token("cli-ana", "ana", "operator") + "\n")
    path.chmod(0o644)
    refused = ack("--token-file", str(path))
    assert refused.exit_code == 1
    assert f"{path} has mode 0644: others may read the API token" in refused.stderr
    assert ack_by(site) is None
    path.chmod(0o600)
    acked = ack("--token-file", str(path))
    assert acked.exit_code == 0, acked.output
    assert f"acting as ana (token cli-ana from {path})" in acked.stderr
    vic = token("cli-vic", "vic", "viewer")
    named = ack("--token-file", str(path), env={"VIGIL_API_TOKEN": vic})  # the named file wins
    assert named.exit_code == 0 and "acting as ana" in named.stderr, named.output
    missing = ack("--token-file", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "no such file" in missing.stderr


def test_the_default_token_file_is_used_when_present(site, tmp_path):
    path = tmp_path / "home" / ".config" / "vigil" / "token"
    path.parent.mkdir(parents=True)
    path.write_text(token("cli-ana", "ana", "operator"))
    path.chmod(0o640)
    refused = ack()
    assert refused.exit_code == 1 and "mode 0640" in refused.stderr
    path.chmod(0o600)
    acked = ack()
    assert acked.exit_code == 0 and ack_by(site) == "ana/cli-ana", acked.output


def test_as_admin_works_for_the_owner_of_the_state_directory_and_is_recorded(site, tmp_path):
    state = tmp_path / ".vigil"
    missing = ack("--as-admin")
    assert missing.exit_code == 1 and f"there is no state directory {state}" in missing.stderr
    state.mkdir()
    me = os.environ.get("USER") or __import__("getpass").getuser()
    acked = ack("--as-admin")
    assert acked.exit_code == 0, acked.output
    assert f"acting as local-admin:{me} (--as-admin, owner of {state})" in acked.stderr
    assert ack_by(site) == f"local-admin:{me}"
    added = runner.invoke(app, ["silence", "add", '{target="rack-1"}', "--as-admin"])
    assert added.exit_code == 0 and silences(site) == 1, added.output
    listed = runner.invoke(app, ["silence", "list"])
    assert f"by local-admin:{me}" in listed.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the directory away needs root")
def test_as_admin_is_refused_when_another_user_owns_the_state_directory(site, tmp_path):
    state = tmp_path / ".vigil"
    state.mkdir()
    os.chown(state, 65534, 65534)
    refused = ack("--as-admin")
    assert refused.exit_code == 1
    assert f"{state} belongs to uid 65534, not to you (uid 0)" in refused.stderr
    assert ack_by(site) is None


def test_the_installed_command_adds_and_expires_a_silence_with_a_token_file(site, tmp_path):
    path = tmp_path / "token"
    path.write_text(token("cli-ana", "ana", "operator"))
    path.chmod(0o600)
    vigil = Path(sys.executable).parent / "vigil"
    env = {**os.environ}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [str(vigil), "silence", *args, "--token-file", str(path)]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)

    added = run("add", '{target="rack-1"}', "--for", "1h", "-m", "maint")
    assert added.returncode == 0, added.stderr
    assert "acting as ana (token cli-ana" in added.stderr
    assert added.stdout.startswith('silence 1 {target="rack-1"} until')
    expired = run("expire", "1")
    assert expired.returncode == 0 and "silence 1 expired" in expired.stdout, expired.stderr
    listed = runner.invoke(app, ["silence", "list", "--all"])
    assert '(expired by ana/cli-ana) by ana/cli-ana: "maint"' in listed.stdout
