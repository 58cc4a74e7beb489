"""Scale-out as the README describes it: Prefect on PostgreSQL behind basic auth, a process
work pool served by two workers in their own processes, and analytics spread over a Dask
cluster. The workers bring the config and the store in their own environment."""

import os
import secrets
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
def prefect_on_postgres(postgres_available, tmp_path: Path) -> Iterator[tuple[httpx.Client, dict]]:
    """A `prefect server start` with basic auth on a fresh PostgreSQL database; yields an
    authenticated client of its API and the environment of its clients (CLI, workers)."""
    name = f"prefect_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database = make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    credential = f"vigil:{secrets.token_urlsafe(16)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect-home")}  # Vigil comes from its install
    server_env = env | {
        "PREFECT_API_DATABASE_CONNECTION_URL": database.render_as_string(hide_password=False),
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_API_AUTH_STRING": credential,
    }
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    auth = tuple(credential.split(":", 1))
    try:
        wait_until(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 240)
        with httpx.Client(base_url=api, auth=auth, timeout=10) as client:
            yield client, env | {"PREFECT_API_URL": api, "PREFECT_API_AUTH_STRING": credential}
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
    password = "s3cret-scale-pw"  # the server trusts loopback: any password connects
    store_url = make_url(postgres_url).set(password=password)
    store_url = store_url.render_as_string(hide_password=False)
    upgrade(store_url)  # Vigil's store on PostgreSQL too
    config = tmp_path / "vigil.yaml"
    config.write_text(PROCEDURE)
    deploy_env = env | {"VIGIL_DATABASE_URL": store_url}  # as in the deploying shell
    deploy = [VIGIL, "deploy", "--pool", "scale", "--config", str(config)]
    deployed = subprocess.run(deploy, env=deploy_env, capture_output=True, text=True, cwd=tmp_path)
    assert deployed.returncode == 0, deployed.stderr
    assert "deployed recover/recover to work pool scale" in deployed.stdout
    assert api.get("/work_pools/scale").json()["type"] == "process"
    by_vigil = registered(api)
    # The prefect.yaml of the same config, deployed by Prefect's own CLI, registers the same.
    write = [*deploy, "--write", str(tmp_path / "prefect.yaml")]
    assert subprocess.run(write, env=deploy_env, capture_output=True, cwd=tmp_path).returncode == 0
    prefect_deploy = [PREFECT, "--no-prompt", "deploy", "--all", "--prefect-file", "prefect.yaml"]
    by_prefect = subprocess.run(
        prefect_deploy, env=deploy_env, capture_output=True, text=True, cwd=tmp_path
    )
    assert by_prefect.returncode == 0, by_prefect.stdout + by_prefect.stderr
    assert registered(api) == by_vigil
    assert set(by_vigil) == {  # the sweep and self-watch serve the built-in Vigil* rules
        "collect/collect",
        "maintenance/maintenance",
        "recover/recover",
        "alert-sweep/alert-sweep",
        "self-watch/self-watch",
    }
    # Prefect's CLI cannot close a parameter schema; `vigil deploy` again does.
    assert subprocess.run(deploy, env=deploy_env, capture_output=True).returncode == 0
    for readable in ("/deployments/filter", "/work_pools/filter"):  # no secret in the API
        assert password not in api.post(readable, json={}).raise_for_status().text

    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", "scale", "--name", name, "--limit", "4"],
            cwd=tmp_path,  # not the checkout: workers import the installed flows
            # The config and the store come with each worker's own environment, not with
            # the pool's job variables, which anyone who can read the API could read.
            env=env
            | {
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "VIGIL_CONFIG_PATH": str(config),
                "VIGIL_DATABASE_URL": store_url,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for name in ("worker-a", "worker-b")
    ]
    try:
        deployment = api.get("/deployments/name/recover/recover").json()
        create = f"/deployments/{deployment['id']}/create_flow_run"
        forged = {"procedure": "restart-web", "target": "x", "config_path": "/tmp/evil.yaml"}
        assert api.post(create, json={"parameters": forged}).status_code == 409
        ids = [
            api.post(
                create,
                json={
                    "parameters": {
                        "procedure": "restart-web",
                        "target": f"web-{i}",
                        "dry_run": True,
                    }
                },
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
    with Session(make_engine(store_url)) as session:
        runs = session.exec(select(RecoveryRun)).all()
    assert sorted(r.target for r in runs) == sorted(f"web-{i}" for i in range(RUNS))
    assert {(r.state, r.is_dry_run) for r in runs} == {(RunState.DRY_RUN, True)}


def registered(api: httpx.Client) -> dict[str, tuple]:
    """Deployment name -> what a worker acts on: entrypoint, pool, parameters, schedules."""
    flows = {f["id"]: f["name"] for f in api.post("/flows/filter", json={}).json()}
    return {
        f"{flows[d['flow_id']]}/{d['name']}": (
            d["entrypoint"],
            d["work_pool_name"],
            d["parameters"],
            d["pull_steps"],
            sorted(s["schedule"]["interval"] for s in d["schedules"]),
        )
        for d in api.post("/deployments/filter", json={}).json()
    }


def states(api: httpx.Client, ids: list[str]) -> dict[str, int]:
    body = {"flow_runs": {"id": {"any_": ids}}, "limit": 200, "sort": "ID_DESC"}
    counts: dict[str, int] = {}
    for run in api.post("/flow_runs/filter", json=body).json():
        counts[run["state_type"]] = counts.get(run["state_type"], 0) + 1
    return counts


def executing_workers(api: httpx.Client, ids: list[str]) -> dict[str, str]:
    """Flow run id -> the worker that ran it, for the runs ``ids`` (scheduled deployments
    share the pool), from the workers' `executed-flow-run` events.

    (Both workers may log "submitting" for one run; only the one whose Pending proposal
    the server accepted runs it and emits this event.)
    """
    body = {"filter": {"event": {"name": ["prefect.worker.executed-flow-run"]}}, "limit": 50}
    found: dict[str, str] = {}
    reply = api.post("/events/filter", json=body).raise_for_status()
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
