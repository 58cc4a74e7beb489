"""`vigil up --rotate-prefect-credential`: a fresh basic-auth credential, private, in place."""

import stat

from typer.testing import CliRunner

from deployments.prefect_auth import ensure_credential, read_credential
from vigil.cli import app


def test_rotating_replaces_the_credential_with_a_private_fresh_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vigil.yaml").write_text("targets: []\n")
    state = tmp_path / ".vigil"
    old = ensure_credential(state)
    args = ["up", "--check", "--rotate-prefect-credential", "--db", f"sqlite:///{tmp_path}/v.db"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    new = read_credential(state)
    assert new is not None and new != old and new.startswith("vigil:")
    assert f"new Prefect credential in {state / 'prefect-auth'}" in result.output
    assert new not in result.output and old not in result.output
    assert stat.S_IMODE((state / "prefect-auth").stat().st_mode) == 0o600
    assert sorted(p.name for p in state.iterdir()) == ["prefect-auth"]  # no leftovers
