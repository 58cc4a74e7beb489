"""Scale-out as the README describes it: Prefect on PostgreSQL, a process work pool served by
two workers in their own processes, and analytics spread over a Dask cluster."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from models.config.analytics import AnalyticsConfig
from models.db import make_engine
from models.migrate import upgrade
from models.recovery import RecoveryRun, RunState
from models.store import MetricStore
from tests.analytics.synthetic import seed_series
from tests.conftest import PG_URL, _admin_dsn
from tests.ports import free_port

PREFECT = str(Path(sys.executable).with_name("prefect"))
VIGIL = str(Path(sys.executable).with_name("vigil"))
RUNS = 20

PROCEDURE = """
procedures:
  - name: restart-web
    steps:
      - {name: restart, type: command, argv: [/bin/true, "{target}"]}
"""


@pytest.fixture
def prefect_on_postgres(postgres_available, tmp_path: Path) -> Iterator[tuple[str, dict]]:
    """A `prefect server start` on a fresh PostgreSQL database; yields (API URL, client env)."""
    name = f"prefect_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database = make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect-home")}  # Vigil comes from its install
    server_env = env | {
        "PREFECT_API_DATABASE_CONNECTION_URL": database.render_as_string(hide_password=False),
        "PREFECT_UI_ENABLED": "false",
    }
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 240)
        yield api, env | {"PREFECT_API_URL": api}
    finally:
        stop(server)
        with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until(condition, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"not within {seconds:g} s"
        time.sleep(1)


def stop(process: subprocess.Popen) -> None:
    """Stop a child and its process group (SIGTERM, then SIGKILL)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_two_workers_share_twenty_recovery_runs_from_one_process_pool(
    prefect_on_postgres, postgres_url, tmp_path
):
    api, env = prefect_on_postgres
    upgrade(postgres_url)  # Vigil's store on PostgreSQL too
    config = tmp_path / "vigil.yaml"
    config.write_text(PROCEDURE)
    deploy = [VIGIL, "deploy", "--pool", "scale", "--config", str(config), "--db", postgres_url]
    deployed = subprocess.run(deploy, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert deployed.returncode == 0, deployed.stderr
    assert "deployed recover/recover to work pool scale" in deployed.stdout
    pool = httpx.get(f"{api}/work_pools/scale", timeout=5).json()
    assert pool["type"] == "process"
    by_vigil = registered(api)
    # The prefect.yaml of the same config, deployed by Prefect's own CLI, registers the same.
    write = [*deploy, "--write", str(tmp_path / "prefect.yaml")]
    assert subprocess.run(write, env=env, capture_output=True, cwd=tmp_path).returncode == 0
    prefect_deploy = [PREFECT, "--no-prompt", "deploy", "--all", "--prefect-file", "prefect.yaml"]
    by_prefect = subprocess.run(
        prefect_deploy, env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert by_prefect.returncode == 0, by_prefect.stdout + by_prefect.stderr
    assert registered(api) == by_vigil
    assert set(by_vigil) == {"collect/collect", "maintenance/maintenance", "recover/recover"}

    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", "scale", "--name", name, "--limit", "4"],
            cwd=tmp_path,  # not the checkout: workers import the installed flows
            env=env | {"PREFECT_WORKER_QUERY_SECONDS": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for name in ("worker-a", "worker-b")
    ]
    try:
        deployment = httpx.get(f"{api}/deployments/name/recover/recover", timeout=5).json()
        ids = [
            httpx.post(
                f"{api}/deployments/{deployment['id']}/create_flow_run",
                json={
                    "parameters": {
                        "procedure": "restart-web",
                        "target": f"web-{i}",
                        "dry_run": True,
                    }
                },
                timeout=10,
            ).json()["id"]
            for i in range(RUNS)
        ]
        wait_until(lambda: states(api, ids) == {"COMPLETED": RUNS}, 600)
        took = time.monotonic() - started
        # A worker sends its events while it runs: wait for them before stopping it.
        wait_until(lambda: len(executing_workers(api, ids)) == RUNS, 60)
    finally:
        for worker in workers:
            stop(worker)
    print(f"\n{RUNS} runs on 2 workers completed {took:.0f} s after the workers started")

    by_worker = executing_workers(api, ids)
    assert sorted(by_worker) == sorted(ids)  # each run was executed exactly once
    assert set(by_worker.values()) == {"worker-a", "worker-b"}
    print(
        "runs per worker:", {w: list(by_worker.values()).count(w) for w in ("worker-a", "worker-b")}
    )
    with Session(make_engine(postgres_url)) as session:
        runs = session.exec(select(RecoveryRun)).all()
    assert sorted(r.target for r in runs) == sorted(f"web-{i}" for i in range(RUNS))
    assert {(r.state, r.is_dry_run) for r in runs} == {(RunState.DRY_RUN, True)}


def registered(api: str) -> dict[str, tuple]:
    """Deployment name -> what a worker acts on: entrypoint, pool, parameters, schedules."""
    flows = {f["id"]: f["name"] for f in httpx.post(f"{api}/flows/filter", json={}).json()}
    return {
        f"{flows[d['flow_id']]}/{d['name']}": (
            d["entrypoint"],
            d["work_pool_name"],
            d["parameters"],
            d["pull_steps"],
            sorted(s["schedule"]["interval"] for s in d["schedules"]),
        )
        for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    }


def states(api: str, ids: list[str]) -> dict[str, int]:
    body = {"flow_runs": {"id": {"any_": ids}}, "limit": 200, "sort": "ID_DESC"}
    counts: dict[str, int] = {}
    for run in httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json():
        counts[run["state_type"]] = counts.get(run["state_type"], 0) + 1
    return counts


def executing_workers(api: str, ids: list[str]) -> dict[str, str]:
    """Flow run id -> the worker that ran it, for the runs ``ids`` (scheduled deployments
    share the pool), from the workers' `executed-flow-run` events.

    (Both workers may log "submitting" for one run; only the one whose Pending proposal
    the server accepted runs it and emits this event.)
    """
    body = {"filter": {"event": {"name": ["prefect.worker.executed-flow-run"]}}, "limit": 50}
    found: dict[str, str] = {}
    reply = httpx.post(f"{api}/events/filter", json=body, timeout=10).raise_for_status()
    for event in reply.json()["events"]:
        worker = event["resource"]["prefect.resource.name"]
        for related in event["related"]:
            if related["prefect.resource.role"] == "flow-run":
                run_id = related["prefect.resource.id"].removeprefix("prefect.flow-run.")
                if run_id not in ids:
                    continue
                assert run_id not in found, f"run {run_id} executed twice"
                found[run_id] = worker
    return found


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_retrain_and_forecast_runs_spread_their_series_over_a_local_dask_cluster(
    prefect_harness, postgres_url, serve_with, tmp_path
):
    db_url = postgres_url
    upgrade(db_url)
    pytest.importorskip("prefect_dask", reason="optional extra `dask`")
    from distributed import Client, LocalCluster, get_task_stream

    from flows.forecast import forecast
    from flows.retrain import retrain

    now = seed_series(MetricStore(make_engine(db_url))) + timedelta(minutes=1)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        config = AnalyticsConfig(
            series=["cpu_busy_ratio", "disk_used_ratio"],
            horizon=timedelta(hours=2),
            models=["seasonal_profile", "linear_trend"],
            dask_address=cluster.scheduler_address,
        )
        analytics = yaml.safe_dump({"analytics": config.model_dump(mode="json")})
        (tmp_path / "vigil.yaml").write_text(analytics)
        serve_with(tmp_path / "vigil.yaml", db_url)
        with get_task_stream(client) as stream:
            refits = retrain(now)
            written = forecast(now)
    assert len(refits) == 2 and all("promoted" in line for line in refits)
    assert written["forecast_points"] > 0 and written["anomaly_scores"] > 0
    ran = [(task["key"], task["worker"]) for task in stream.data]
    for name in ("retrain_series", "forecast_series", "score_series"):
        assert sum(key.startswith(name) for key, _ in ran) == 2, ran
    print(f"\nDask ran {len(ran)} tasks on {len({w for _, w in ran})} workers")
