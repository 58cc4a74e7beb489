from typer.testing import CliRunner

from models.migrate import current_revision, head_revision
from vigil.cli import app

runner = CliRunner()


def test_up_writes_a_starter_config_migrates_and_says_what_it_watches(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["up", "--check"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "vigil.yaml").exists()
    assert current_revision("sqlite:///vigil.db") == head_revision()
    assert "watching host" in result.output
    assert "host metrics every 10s" in result.output


def test_init_keeps_an_existing_file(tmp_path):
    path = tmp_path / "vigil.yaml"
    assert runner.invoke(app, ["init", str(path)]).exit_code == 0
    path.write_text("# mine\n")
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 1
    assert path.read_text() == "# mine\n"


def test_validate_prints_every_problem_with_its_line(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text("targets:\n  - name: a\n    kind: router\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:3: targets[0].kind: Input should be 'host' or 'service'" in result.output


def test_db_upgrade_reports_the_revision(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert result.exit_code == 0, result.output
    assert f"is at revision {head_revision()}" in result.output
    result = runner.invoke(app, ["db", "upgrade", "--db", "sqlite:////nonexistent/dir/x.db"])
    assert result.exit_code == 1
    assert "cannot migrate sqlite:////nonexistent/dir/x.db" in result.output
