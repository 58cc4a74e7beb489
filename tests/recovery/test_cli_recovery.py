"""`vigil recovery run|list|enable` against a real store and the session Prefect server."""

import getpass
import sys

from sqlalchemy import select
from typer.testing import CliRunner

from models.db import make_engine
from models.recovery import AuditEvent, RecoveryAudit
from vigil.cli import app

runner = CliRunner()


def test_run_dry_run_list_and_enable(
    prefect_harness, write_config, recovery_db, tmp_path, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.config/vigil/token of the machine
    monkeypatch.delenv("VIGIL_API_TOKEN", raising=False)
    monkeypatch.setenv("VIGIL_STATE_DIR", str(tmp_path / ".vigil"))
    (tmp_path / ".vigil").mkdir()  # owned by this OS user: --as-admin works
    touched = tmp_path / "touched"
    check = "import sys; sys.exit(len(sys.argv[1]) > 3)"
    config = write_config(f"""
procedures:
  - name: touch
    limits: {{cooldown: 0s, disable_after_failures: 1}}
    steps:
      - type: command
        argv: [touch, "{touched}"]
        rollback: {{type: command, argv: [rm, -f, "{touched}"]}}
      - {{type: command, argv: ["{sys.executable}", "-c", "{check}", "{{labels.size}}"]}}
""")

    def vigil(*args: str, with_config: bool = True):  # type: ignore[no-untyped-def]
        options = ["--config", config] if with_config else []
        return runner.invoke(app, ["recovery", *args, *options, "--db", recovery_db])

    dry = vigil("run", "touch", "-t", "h1", "--dry-run", "-l", "size=x")  # needs no identity
    assert dry.exit_code == 0, dry.stdout
    assert "dry_run: nothing changed" in dry.stdout and not touched.exists()

    anonymous = vigil("run", "touch", "-t", "h1", "-l", "size=x")
    assert anonymous.exit_code == 1 and "needs to know who you are" in anonymous.stderr
    assert not touched.exists()

    failed = vigil("run", "touch", "-t", "h1", "-l", "size=large", "--as-admin")
    assert failed.exit_code == 1 and failed.stdout.startswith("failed:"), failed.stdout
    assert not touched.exists()  # step 1 was rolled back

    disabled = vigil("run", "touch", "-t", "h1", "-l", "size=x", "--as-admin")
    assert "skipped: disabled after 1 consecutive failures" in disabled.stdout

    listed = vigil("list", with_config=False)
    assert "touch on h1 [cli] failed" in listed.stdout
    assert "touch on h1 [cli] dry_run" in listed.stdout

    anonymous = vigil("enable", "touch", "-t", "h1")
    assert anonymous.exit_code == 1 and "needs to know who you are" in anonymous.stderr
    assert vigil("enable", "touch", "-t", "h1", "--as-admin").exit_code == 0
    admin = f"local-admin:{getpass.getuser()}"
    assert actors(recovery_db, AuditEvent.ENABLED) == [admin]
    # the failed run and the refused one were asked for by the admin; the dry run asks nothing
    assert actors(recovery_db, AuditEvent.TRIGGERED) == [admin, admin]
    ok = vigil("run", "touch", "-t", "h1", "-l", "size=x", "--as-admin")
    assert ok.exit_code == 0 and ok.stdout.startswith("succeeded"), ok.stdout
    assert touched.exists()

    unknown = vigil("run", "nope", "-t", "h1", "--as-admin")
    assert (
        unknown.exit_code == 2
        and "no procedure 'nope' in the config; known: touch" in unknown.stderr
    )


def actors(url: str, event: AuditEvent) -> list[str]:
    """Who the audit records for each ``event``, oldest first."""
    db = make_engine(url)
    with db.connect() as conn:
        query = select(RecoveryAudit.actor).where(RecoveryAudit.event == event)
        found = [actor for (actor,) in conn.execute(query.order_by(RecoveryAudit.id))]
    db.dispose()
    return found
