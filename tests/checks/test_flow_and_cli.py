"""The run_checks flow under the Prefect harness, and the `vigil checks` commands."""

from datetime import timedelta

from typer.testing import CliRunner

from flows.checks import run_checks
from models.db import make_engine
from tasks.checks.status_store import current_states
from tests.checks.loopback import Answer
from vigil.cli import app


def write_config(tmp_path, http_server, tcp_listener):
    path = tmp_path / "vigil.yaml"
    path.write_text(f"""\
targets:
  - name: shop
checks:
  - name: shop-port
    type: tcp
    target: shop
    host: 127.0.0.1
    port: {tcp_listener.port}
  - name: shop-home
    type: http
    target: shop
    url: {http_server.base_url}/
    body_contains: welcome
    depends_on: [shop-port]
""")
    return path


def test_the_flow_runs_a_window_and_stores_every_result(
    prefect_harness, db_url, tmp_path, http_server, tcp_listener, serve_with
):
    http_server.answers["/"] = Answer(body="welcome")
    path = write_config(tmp_path, http_server, tcp_listener)
    serve_with(path, db_url)
    summary = run_checks(window_seconds=0)
    assert summary["results"] == {"up": 2}
    assert (summary["system_score"], summary["system_level"]) == (100.0, "healthy")
    engine = make_engine(db_url)
    assert [(s.check, s.status) for s in current_states(engine)] == [
        ("shop-home", "up"),
        ("shop-port", "up"),
    ]
    engine.dispose()


def test_the_cli_lists_runs_once_and_shows_status(tmp_path, http_server, tcp_listener):
    http_server.answers["/"] = Answer(body="closed for today")
    path = write_config(tmp_path, http_server, tcp_listener)
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    runner = CliRunner()
    listed = runner.invoke(app, ["checks", "list", "--config", str(path)])
    assert listed.exit_code == 0, listed.output
    assert "shop-home" in listed.output and "after shop-port" in listed.output
    ran = runner.invoke(app, ["checks", "run", "--once", "--config", str(path), "--db", db])
    assert ran.exit_code == 0, ran.output
    assert "{'up': 1, 'down': 1}" in ran.output
    assert "soft failure 1/3: body does not contain 'welcome'" in ran.output
    shown = runner.invoke(app, ["checks", "status", "--db", db])
    assert "system  system" in shown.output and "warning" in shown.output


def test_the_cli_explains_a_broken_checks_section(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text("checks:\n  - name: x\n    type: tcp\n    target: t\n    host: h\n")
    result = CliRunner().invoke(app, ["checks", "list", "--config", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: checks[0].port: Field required" in result.output


def test_the_deployment_runs_one_window_per_interval():
    from deployments.checks import checks_deployment

    deployment = checks_deployment(timedelta(minutes=2))
    (schedule,) = deployment.schedules
    assert schedule.schedule.interval == timedelta(minutes=2)
    assert deployment.parameters == {"window_seconds": 120.0}
