"""`vigil api token create|list|revoke`: the token is printed once, only its digest is kept."""

from pathlib import Path

from typer.testing import CliRunner

from models.db import make_engine
from models.migrate import upgrade
from tasks.core.api.tokens import digest
from vigil.cli import app

runner = CliRunner()


def test_a_token_is_made_listed_and_revoked_from_the_command_line(
    tmp_path: Path, api_config_path: Path
):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(db)
    common = ["--config", str(api_config_path), "--db", db]
    made = runner.invoke(app, ["api", "token", "create", "deploy", "--user", "olga",
                               "--role", "operator", *common])  # fmt: skip
    too_high = runner.invoke(app, ["api", "token", "create", "x", "--user", "vic",
                                   "--role", "admin", *common])  # fmt: skip
    listed = runner.invoke(app, ["api", "token", "list", "--db", db])
    revoked = runner.invoke(app, ["api", "token", "revoke", "deploy", "--db", db])
    again = runner.invoke(app, ["api", "token", "revoke", "deploy", "--db", db])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("vigil_")
    engine = make_engine(db)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT name, token_sha256 FROM api_token").all()
    engine.dispose()
    assert stored == [("deploy", digest(token))]
    assert too_high.exit_code == 2 and "vic is a viewer in dashboard.users" in too_high.output
    assert listed.stdout.startswith("deploy olga operator by ")
    assert revoked.exit_code == 0 and again.exit_code == 1
