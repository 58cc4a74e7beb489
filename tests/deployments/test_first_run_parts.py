"""The parts of the first five minutes that need no running Vigil: first windows, the demo's
config and the story its terminal tells."""

import socket
from datetime import timedelta

from typer.testing import CliRunner

from deployments.checks import checks_deployment
from deployments.demo import DemoPorts, Snapshot, demo_config, next_lines
from deployments.kickoff import (
    first_window_parameters,
    seconds_until_first_run,
    store_first_host_sample,
)
from models.config import parse_config
from models.vocabulary.passwords import hash_password
from vigil.cli import app


def test_the_first_window_lasts_until_the_first_scheduled_run():
    deployment = checks_deployment(timedelta(minutes=5))
    anchor = deployment.schedules[0].schedule.anchor_date
    assert seconds_until_first_run(deployment, anchor + timedelta(seconds=1)) == 299
    assert seconds_until_first_run(deployment, anchor + timedelta(seconds=301)) == 299
    assert first_window_parameters("run_checks", 299) == {
        "window_seconds": 299,
        "force_first_round": True,
    }
    assert first_window_parameters("collect", 299) == {"window_seconds": 299}
    assert first_window_parameters("forecast", 299) is None


def test_the_demo_config_is_the_starter_plus_a_service_that_heals_only_with_approval(tmp_path):
    ports = DemoPorts(prefect=4300, push=9300, dashboard=8600, web=8090)
    config = parse_config(
        demo_config(tmp_path, ports, hash_password("demo"), python="/usr/bin/python3")
    )
    rules = {r.name: r for r in config.rules}
    assert rules["DemoWebDown"].remediate is not None
    assert rules["DemoWebDown"].procedure == "restart-demo-web"
    (procedure,) = [p for p in config.procedures if p.name == "restart-demo-web"]
    assert procedure.approval == "required" and not procedure.dry_run
    (step,) = procedure.steps
    assert step.start == ["/usr/bin/python3", "-m", "deployments.demo_service", "8090"]
    assert {"prefect-api", "demo-web"} <= {c.name for c in config.checks}


def test_the_demo_tells_each_step_once_with_where_to_look():
    ports, told = DemoPorts(), set[str]()
    story = [
        Snapshot(check="up"),
        Snapshot(check="down", alert="pending"),
        Snapshot(check="down", alert="firing", recovery="awaiting_approval", flow_run_id="r1"),
        Snapshot(check="up", alert="firing", recovery="succeeded", flow_run_id="r1"),
        Snapshot(check="up", alert="resolved", fingerprint="f1", recovery="succeeded"),
    ]
    said = []
    for snapshot in story:
        for step, line in next_lines(snapshot, told, ports):
            told.add(step)
            said.append(line)
    assert said[0] == "the demo-web check is DOWN: http://127.0.0.1:8511/health"
    assert said[1] == "alert DemoWebDown fires: http://127.0.0.1:8511/alerts"
    assert said[2].startswith(
        "the restart waits for your approval in the Prefect UI: "
        "http://127.0.0.1:4210/runs/flow-run/r1"
    )
    assert said[3] == "the service was restarted and answers: http://127.0.0.1:8088/"
    assert (
        said[4] == "the alert resolved; its whole timeline (tab Timeline): "
        "http://127.0.0.1:8511/alerts?fingerprint=f1"
    )
    assert len(said) == 5


def test_serve_stores_a_first_host_sample_itself(tmp_path):
    from datetime import UTC, datetime

    from models.config.starter import starter_config
    from models.db import make_engine
    from models.migrate import upgrade
    from models.store import MetricStore

    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    config = parse_config(starter_config(host="web-1"))
    now = datetime.now(UTC)
    stored = store_first_host_sample(config, url, now)
    engine = make_engine(url)
    try:
        memory = MetricStore(engine).latest("host_memory_used_percent")
    finally:
        engine.dispose()
    assert stored > 5
    assert len(memory) == 1 and '"target":"web-1"' in memory.iloc[0]["labels"]


def test_the_demo_refuses_a_taken_port_by_name_and_writes_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = CliRunner().invoke(
            app, ["demo", "--dir", str(tmp_path / "demo"), f"--prefect-port={port}"]
        )
    assert done.exit_code == 1
    assert f"{port} (--prefect-port)" in done.output and "give the demo free ports" in done.output
    assert not (tmp_path / "demo").exists()
